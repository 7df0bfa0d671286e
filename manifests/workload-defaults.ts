/**
 * What every workload chart runs unless its props say otherwise.
 *
 * The image is agnhost, the Kubernetes project's own test server, at the tag the pinned
 * Kubernetes release's e2e tests use (k8s.io/kubernetes test/utils/image/manifest.go).
 * `agnhost serve-hostname` answers every HTTP request with the pod's name, so `curl` through
 * the Service shows which replica answered; it writes no files, so the root filesystem can be
 * read-only, and uid 1000 exists in the image, so it runs as non-root.
 */
export const DEFAULT_WORKLOAD_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.63.0';

/** The container port the workloads listen on (unprivileged: above 1023). */
export const WORKLOAD_PORT = 8080;

/** The arguments that make agnhost a small HTTP server on WORKLOAD_PORT. */
export const DEFAULT_WORKLOAD_ARGS: readonly string[] = ['serve-hostname', '--http', `--port=${WORKLOAD_PORT}`];

/** The name of that port: probes and Services refer to it by name, not number. */
export const WORKLOAD_PORT_NAME = 'http';

/** The non-root user and group the containers run as (agnhost's `user-defined-in-image`). */
export const WORKLOAD_RUN_AS_USER = 1000;

/**
 * Seconds a deleted pod gets to finish. agnhost serve-hostname sleeps 60 s after SIGTERM; 10 s
 * keeps the self-healing demo quick while leaving in-flight requests time to finish.
 */
export const WORKLOAD_TERMINATION_GRACE_SECONDS = 10;
