import { describe, expect, it } from 'vitest';
import { distance, suggest } from '../../src/config/suggest.js';

describe('suggest: the known key a mistyped one stands for', () => {
  const node = ['name', 'cookie', 'cookieFile', 'hidden', 'netTicktime', 'distAutoConnect', 'allow', 'busyPollMicros'];

  it.each([
    ['cokie', node, 'cookie'], // a letter missing
    ['cookei', node, 'cookie'], // two letters swapped: one edit
    ['coookie', node, 'cookie'], // one too many
    ['nmae', node, 'name'],
    ['certfle', ['certfile', 'keyfile', 'cacertfile'], 'certfile'],
    ['cacertfil', ['certfile', 'keyfile', 'cacertfile'], 'cacertfile'],
    ['allo', node, 'allow'],
    ['ac', ['ca', 'cert', 'key'], 'ca'],
  ])('%s → %s', (word, known, expected) => {
    expect(suggest(word, known)).toBe(expected);
  });

  it.each([
    ['cookie_file', 'cookieFile'],
    ['CookieFile', 'cookieFile'],
    ['cookie-file', 'cookieFile'],
    ['net_ticktime', 'netTicktime'],
    ['DIST_AUTO_CONNECT', 'distAutoConnect'],
  ])('a case, underscore or dash variant: %s → %s', (word, expected) => {
    expect(suggest(word, node)).toBe(expected);
  });

  it('and the other way: failIfNoPeerCert → fail_if_no_peer_cert', () => {
    expect(suggest('failIfNoPeerCert', ['verify', 'fail_if_no_peer_cert'])).toBe('fail_if_no_peer_cert');
  });

  it.each([
    ['frobnicate', node],
    ['port', node],
    ['ab', ['ca']], // a distance as long as the word is no misspelling
    ['x', ['y', 'ca']],
    ['ckiefle', node], // three edits from cookieFile
  ])('nothing when nothing is close: %s', (word, known) => {
    expect(suggest(word, known)).toBeUndefined();
  });

  it('the closest wins, then the first declared', () => {
    expect(suggest('bindz', ['binds', 'bind'])).toBe('binds');
    expect(suggest('bindx', ['bind', 'binds'])).toBe('bind');
  });

  it('distance: Levenshtein with adjacent transpositions, cut at the limit', () => {
    expect(distance('cookie', 'cookie')).toBe(0);
    expect(distance('cokie', 'cookie')).toBe(1);
    expect(distance('ocokie', 'cookie')).toBe(1);
    expect(distance('kitten', 'sitting')).toBe(3);
    expect(distance('kitten', 'sitting', 2)).toBe(3);
    expect(distance('a', 'abcdef', 2)).toBe(3);
  });
});
