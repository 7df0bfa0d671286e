/**
 * The per-cluster secrets the bootstrap needs. Generated once per cluster, kept outside git
 * (mode 0600), reused on every synth so the output is byte-identical.
 * (Contract placeholder: the generation/storage lands with the bootstrap issue.)
 */
export interface ClusterSecrets {
  /** kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`. */
  readonly bootstrapToken: string;
  /** Key that encrypts the control-plane certificates kubeadm uploads (64 hex characters). */
  readonly certificateKey: string;
  /** The cluster CA certificate, PEM. */
  readonly caCertPem: string;
  /** The cluster CA private key, PEM. */
  readonly caKeyPem: string;
  /** `sha256:<hex>` of the CA's public key, as joins pin it (`caCertHashes`). */
  readonly caCertHash: string;
}
