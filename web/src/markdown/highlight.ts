import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

/**
 * highlight.js core with the languages answers use most (the full build is ~300 KB); a fence in
 * any other language is shown plain rather than guessed (auto-detection is slow and often wrong).
 */
const LANGUAGES = {
  bash,
  c,
  cpp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  markdown,
  python,
  rust,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

/** HTML for a code block's content (escaped); `null` when the language is unknown. */
export function highlightCode(code: string, language: string): string | null {
  if (!language || !hljs.getLanguage(language)) return null;
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}

/**
 * One step per registered grammar, the languages answers use most first: highlight.js compiles a
 * grammar the first time it is used, a one-time cost of tens of milliseconds (TypeScript: ~150 ms
 * on a busy 2-core machine) that would otherwise land in the middle of a streaming answer.
 */
export function grammarWarmUps(): (() => void)[] {
  const byUse = Object.keys(LANGUAGES).sort((a, b) => PRIORITY.indexOf(b) - PRIORITY.indexOf(a));
  return byUse.map((language) => () => void hljs.highlight('x', { language, ignoreIllegals: true }));
}

const PRIORITY = ['yaml', 'xml', 'sql', 'json', 'bash', 'python', 'javascript', 'typescript'];
