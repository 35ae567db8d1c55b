import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest } from '../../models/manifest.ts';
import type { ModelRegistry } from '../../models/registry.ts';

/**
 * A model version's class names for one output (`labels.<output>` in its manifest), through the registry: the
 * serving version's verified manifest, else the manifest of that version in the models directory (a record may
 * come from the version served before an update). Undefined when neither names them. Found answers are kept: a
 * version's manifest never changes once installed.
 */
export function manifestLabels(
  registry: Pick<ModelRegistry, 'servingModel' | 'modelDir'>,
  output = 'logits',
): (model: string) => readonly string[] | undefined {
  const known = new Map<string, readonly string[]>();
  return (model) => {
    const hit = known.get(model);
    if (hit) return hit;
    const [name = '', version = ''] = model.split('@');
    const serving = registry.servingModel(name);
    const manifest = serving?.id === model ? serving.manifest : readManifest(registry.modelDir(name, version));
    const labels = manifest?.labels[output];
    if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string')) return undefined;
    known.set(model, labels);
    return labels;
  };
}

function readManifest(dir: string) {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  try {
    const parsed = parseManifest(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.ok ? parsed.manifest : undefined;
  } catch {
    return undefined; // unreadable: its records are not asked about (the caller treats it as unknown)
  }
}
