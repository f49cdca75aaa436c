// Validates Karpenter manifests against the JSON schemas that @kubernetes-models/karpenter
// generates from Karpenter's own v1 API types (karpenter.sh/v1 NodePool,
// karpenter.k8s.aws/v1 EC2NodeClass). Reads a JSON array of manifests on stdin and prints a
// JSON array of {kind, name, errors}; an empty `errors` means the manifest is valid.
import { EC2NodeClass } from "@kubernetes-models/karpenter/karpenter.k8s.aws/v1";
import { NodePool } from "@kubernetes-models/karpenter/karpenter.sh/v1";

const models = { "karpenter.sh/v1/NodePool": NodePool, "karpenter.k8s.aws/v1/EC2NodeClass": EC2NodeClass };

let input = "";
for await (const chunk of process.stdin) input += chunk;

const results = JSON.parse(input).map((manifest) => {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  const Model = models[key];
  const name = manifest.metadata?.name ?? "";
  if (!Model) return { kind: key, name, errors: [`no schema for ${key}`] };
  try {
    new Model(manifest).validate();
    return { kind: key, name, errors: [] };
  } catch (error) {
    return { kind: key, name, errors: [String(error.message ?? error)] };
  }
});
process.stdout.write(JSON.stringify(results));
