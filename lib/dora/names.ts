import * as z from 'zod';

/**
 * The one home of the name rules of records (repositories, teams): the request schemas (lib/http/validation.ts,
 * lib/events/schemas.ts) and the LogQL builder (lib/loki/logql.ts) all use them, so a name one route accepts is
 * never refused by another, and a name Loki is asked for is one a record can carry.
 */

const REPOSITORY_NAME_CHARACTERS = /^[A-Za-z0-9._-]{1,100}$/;
const isDotName = (name: string) => name === '.' || name === '..';

/** GitHub repository names: letters, digits, `.`, `_`, `-`, at most 100 characters, never `.` or `..`. */
export function isRepositoryName(name: string): boolean {
  return REPOSITORY_NAME_CHARACTERS.test(name) && !isDotName(name);
}

/**
 * GitHub's limit on team names (255, github.com/dead-claudia/github-limits, confirmed there by GitHub
 * support; GitHub documents none), so every team a client can create can be written and asked for.
 */
export const MAX_TEAM_NAME_LENGTH = 255;

export const repositoryName = z
  .string()
  .regex(REPOSITORY_NAME_CHARACTERS, 'must be a GitHub repository name (letters, digits, ".", "_", "-")')
  .refine((name) => !isDotName(name), 'must be a GitHub repository name, not "." or ".."')
  .meta({ description: 'A repository name of the GitHub organisation', examples: ['checkout-service'] });

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;

/** Text of at most MAX_TEAM_NAME_LENGTH characters without control characters (spaces and accents are allowed). */
export const plainName = z
  .string()
  .max(MAX_TEAM_NAME_LENGTH, `must be at most ${MAX_TEAM_NAME_LENGTH} characters`)
  .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters');

/** GitHub team names: 1 to MAX_TEAM_NAME_LENGTH characters without control characters (spaces and accents are allowed). */
export const teamName = plainName
  .min(1, 'must not be empty')
  .meta({ description: 'A team name of the GitHub organisation', examples: ['Platform Team'] });
