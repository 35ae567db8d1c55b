import { z } from 'zod';

/** Model names and versions as the registry spells them (models/zoo/<name>/<version>/). */
export const modelName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, _ and -');
export const modelVersion = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$/, 'a version such as 1.2.0');
