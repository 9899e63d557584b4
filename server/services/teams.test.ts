import { describe, expect, it } from 'vitest';
import { slugify } from './teams';

describe('slugify', () => {
  it.each([
    ['Rocket Squad!', 'rocket-squad'],
    ['  Équipe Café  ', 'equipe-cafe'],
    ['a--b__c', 'a-b-c'],
    ['日本語', 'team'],
    ['x'.repeat(39) + ' tail', 'x'.repeat(39)],
  ])('%s → %s', (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });
});
