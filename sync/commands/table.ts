import { calibrate } from './calibrate.ts';
import type { Command } from './command.ts';
import { label } from './label.ts';
import { modelsInstall } from './models-install.ts';
import { modelsRollback } from './models-rollback.ts';
import { pause } from './pause.ts';
import { peopleForget, peopleMerge, peopleName, peopleSplit } from './people.ts';
import { personalHeadRollback } from './personal-head-rollback.ts';
import { resume } from './resume.ts';

/** Every command the device answers, by its name under cmd/. One file per command. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [
    ...[pause, resume, calibrate, label, modelsInstall, modelsRollback],
    ...[peopleName, peopleMerge, peopleSplit, peopleForget],
    personalHeadRollback,
  ].map((c) => [c.name, c]),
);
