import { API_SERVER_PORT, NodePlan } from '../../spec';
import { bashScript, shellConst } from './shell';

/**
 * The two small scripts keepalived needs on a load balancer: the health check it runs, and the
 * boot-time lookup of the interface that holds the node's address.
 */

/** The health check: GET /healthz of the API through this node's HAProxy, within `maxTimeSec`. */
export function renderKeepalivedCheckScript(node: NodePlan, maxTimeSec: number): string {
  return bashScript({
    description: [
      `keepalived's health check on ${node.hostname}: the Kubernetes API through this node's HAProxy.`,
      `Exits 0 when GET /healthz answers 200 within ${maxTimeSec} s; anything else lowers this node's VRRP priority.`,
      '-k: HAProxy passes TLS through to the API servers, whose certificates the load balancer cannot verify (no cluster CA here).',
      'Written by k8s-lab cloud-init.',
    ],
    body: [`exec curl -sfk --max-time ${maxTimeSec} -o /dev/null https://127.0.0.1:${API_SERVER_PORT}/healthz`],
  });
}

/**
 * Finds the interface that holds the node's address and writes it, as keepalived's parameter
 * definition `$<parameter>=<name>`, to `outFile` (or the path given as the first argument). Waits
 * (bounded) for the address, fails when none or several interfaces hold it or the name is unusual,
 * and rewrites the file only when its content changes. Idempotent.
 */
export function renderKeepalivedInterfaceScript(node: NodePlan, parameter: string, outFile: string, waitTimeoutSec = 120): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(parameter)) throw new Error(`parameter must be a keepalived parameter name (A-Z, 0-9, _), got ${JSON.stringify(parameter)}`);
  return bashScript({
    description: [
      `Writes keepalived's interface definition for ${node.hostname}: \$${parameter}=<the interface holding ${node.ip}>.`,
      `Usage: $0 [FILE]   (FILE defaults to ${outFile})`,
      'Written by k8s-lab cloud-init; idempotent (rewrites the file only when the interface changes).',
    ],
    body: [
      shellConst('node_ip', node.ip),
      shellConst('wait_timeout', waitTimeoutSec),
      `readonly out="\${1:-${outFile}}"`,
      '',
      'deadline=$((SECONDS + wait_timeout))',
      `until names="$(ip -o -4 addr show to "\${node_ip}/32" | awk '{print $2}')" && [[ -n "\${names}" ]]; do`,
      '  if ((SECONDS >= deadline)); then',
      '    echo "no interface holds ${node_ip} after ${wait_timeout} s; the node\'s IPv4 addresses:" >&2',
      '    ip -o -4 addr show >&2',
      '    exit 1',
      '  fi',
      '  sleep 2',
      'done',
      'if [[ "${names}" == *$\'\\n\'* ]]; then',
      '  echo "several interfaces hold ${node_ip}: ${names//$\'\\n\'/ }; keepalived needs exactly one" >&2',
      '  exit 1',
      'fi',
      '# A VLAN or veth shows as NAME@PARENT; keepalived wants NAME.',
      'name="${names%%@*}"',
      "if [[ ! \"${name}\" =~ ^[A-Za-z0-9_.-]{1,15}$ ]]; then",
      '  echo "the interface holding ${node_ip} has an unexpected name: ${name}" >&2',
      '  exit 1',
      'fi',
      '',
      `content="# Written at boot by k8s-lab: the interface holding \${node_ip}.`,
      `\\$${parameter}=\${name}"`,
      'if [[ -f "${out}" && "$(cat "${out}")" == "${content}" ]]; then',
      '  echo "keepalived interface: ${name} (${out} unchanged)"',
      'else',
      '  printf \'%s\\n\' "${content}" >"${out}.tmp"',
      '  chmod 0644 "${out}.tmp"',
      '  mv -f "${out}.tmp" "${out}"',
      '  echo "keepalived interface: ${name} (written to ${out})"',
      'fi',
    ],
  });
}
