import type * as ort from 'onnxruntime-node';
import type { Manifest, TensorSpec } from './manifest.ts';

type Meta = ort.InferenceSession.ValueMetadata;

function describeShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * One problem per line, or none. A model's fixed dimension must equal the manifest's; a symbolic one (the batch)
 * accepts anything; a manifest's symbolic dimension demands a symbolic one in the model (a model exported with a
 * fixed batch would fail at the first batch of another size).
 */
function compare(kind: 'input' | 'output', specs: readonly TensorSpec[], metas: readonly Meta[]): string[] {
  const problems: string[] = [];
  const byName = new Map(metas.map((m) => [m.name, m]));
  const declared = specs.map((s) => s.name).join(', ');
  const actual = metas.map((m) => m.name).join(', ');
  if (declared !== actual) problems.push(`${kind}s: manifest declares [${declared}], model has [${actual}]`);
  for (const spec of specs) {
    const meta = byName.get(spec.name);
    if (!meta) continue;
    if (!meta.isTensor) {
      problems.push(`${kind} ${spec.name}: model value is not a tensor`);
      continue;
    }
    if (meta.type !== spec.dtype)
      problems.push(`${kind} ${spec.name}: manifest dtype ${spec.dtype}, model ${meta.type}`);
    const ok =
      meta.shape.length === spec.shape.length &&
      spec.shape.every((d, i) => {
        const m = meta.shape[i];
        return typeof m === 'string' || (typeof d === 'number' && d === m);
      });
    if (!ok) {
      problems.push(
        `${kind} ${spec.name}: manifest shape ${describeShape(spec.shape)}, model ${describeShape(meta.shape)}`,
      );
    }
  }
  return problems;
}

export function checkIo(session: ort.InferenceSession, manifest: Manifest): string[] {
  return [
    ...compare('input', manifest.inputs, session.inputMetadata),
    ...compare('output', manifest.outputs, session.outputMetadata),
  ];
}
