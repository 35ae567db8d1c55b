import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';

/**
 * The wearer's say over the people the device clustered (cmd/people/…): name (and enrol) a person, merge people
 * who are one, split tracks that are someone else, forget a person entirely. Each replies with the person(s)
 * as they now are; the same changes reach the phone as `events/person` (person.v1).
 */
const personId = z.string().min(1).max(128);

export const peopleNameV1 = z.strictObject({
  ...requestV1,
  personId,
  name: z.string().trim().min(1).max(80),
  enrolled: z.boolean().default(true).describe('enrolled people are not blurred in snippets'),
});

export const peopleMergeV1 = z.strictObject({
  ...requestV1,
  into: personId,
  from: z.array(personId).min(1).max(64),
});

export const peopleSplitV1 = z.strictObject({
  ...requestV1,
  personId,
  faceIds: z.array(z.string().min(1).max(128)).min(1).max(10_000),
});

export const peopleForgetV1 = z.strictObject({ ...requestV1, personId });

export const peopleName = defineCommand('people/name', peopleNameV1, (r, effects) =>
  effects.namePerson({ personId: r.personId, name: r.name, enrolled: r.enrolled }),
);

export const peopleMerge = defineCommand('people/merge', peopleMergeV1, (r, effects) =>
  effects.mergePeople({ into: r.into, from: r.from }),
);

export const peopleSplit = defineCommand('people/split', peopleSplitV1, (r, effects) =>
  effects.splitPerson({ personId: r.personId, faceIds: r.faceIds }),
);

export const peopleForget = defineCommand('people/forget', peopleForgetV1, (r, effects) =>
  effects.forgetPerson({ personId: r.personId }),
);
