// Prints how fast resource text is decoded and validated: documents per second for multi-document YAML and
// JSON input of NetworkPolicies, and validations per second for already-decoded objects.
import { decodeDocuments, parseResources, resourceProblems } from '../../src/api/index.js';

function policyYaml(i: number): string {
  return `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p${i}, namespace: ns${i % 10}}
spec:
  selector: app == "web${i}" && tier in {"a", "b"}
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: role == "api", namespaceSelector: team == "x"}
    destination: {ports: [80, "8000:8080", http]}
  egress:
  - action: Allow
    destination: {nets: [10.0.0.0/8]}`;
}

function rate(label: string, n: number, fn: () => void): void {
  fn(); // warm up
  const runs = 3;
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) fn();
  const ms = (performance.now() - t0) / runs;
  console.log(
    `${label.padEnd(44)} ${Math.round((n / ms) * 1000).toLocaleString('en-US')} /s  (${ms.toFixed(1)} ms for ${n})`,
  );
}

const N = 2000;
const yamlText = Array.from({ length: N }, (_, i) => policyYaml(i)).join('\n---\n');
const objects = decodeDocuments(yamlText).map((d) => d.value);
const jsonText = JSON.stringify(objects);

rate('decode YAML (documents)', N, () => decodeDocuments(yamlText));
rate('decode JSON array (documents)', N, () => decodeDocuments(jsonText));
rate('validate decoded NetworkPolicies', N, () => {
  for (const o of objects) resourceProblems(o);
});
rate('parseResources YAML end to end', N, () => parseResources(yamlText));
rate('parseResources JSON end to end', N, () => parseResources(jsonText));
