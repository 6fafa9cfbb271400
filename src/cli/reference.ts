import { CAUSES, OUTCOMES } from '../types.js';
import { COMMANDS, EXIT_CODE_HELP, type OptionSpec } from './options.js';

/** Markdown flag reference for the README, generated from the one option table. */
export function optionsMarkdown(): string {
  const lines: string[] = [];
  for (const command of COMMANDS) {
    lines.push(`#### \`${command.usage}\``, '', command.description, '', '| flag | default | meaning |', '|---|---|---|');
    for (const o of command.options) lines.push(`| ${escapeCell(flagCell(o))} | ${defaultCell(o)} | ${escapeCell(o.description)} |`);
    lines.push('');
  }
  lines.push('Exit status:', '', ...EXIT_CODE_HELP.map((l) => `- \`${l.slice(0, 3).trim()}\` ${l.slice(3).trim()}`), '');
  return lines.join('\n');
}

function flagCell(o: OptionSpec): string {
  const value = o.type === 'boolean' ? '' : ` ${o.value ?? (o.choices ? o.choices.join('|') : o.type.toUpperCase())}`;
  const alias = o.alias ? `\`-${o.alias}\`, ` : '';
  return `${alias}\`--${o.name}${value}\``;
}

function defaultCell(o: OptionSpec): string {
  if (o.default === undefined) return '';
  return `\`${Array.isArray(o.default) ? o.default.join(' ') : String(o.default)}\``;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Generated README sections, each between `<!-- NAME:begin … -->` and `<!-- NAME:end -->` markers. */
export const README_SECTIONS: Record<string, () => string> = {
  flags: optionsMarkdown,
  outcomes: () =>
    Object.entries(OUTCOMES)
      .map(([name, meaning]) => `- \`${name}\` — ${meaning}.`)
      .join('\n') + '\n',
  causes: () =>
    Object.entries(CAUSES)
      .map(([name, meaning]) => `- \`${name}\` — ${meaning}.`)
      .join('\n') + '\n',
};

/** The README with every generated section replaced by the current text. */
export function refreshReadme(readme: string): string {
  let text = readme;
  for (const [name, generate] of Object.entries(README_SECTIONS)) {
    const begin = new RegExp(`<!-- ${name}:begin[^>]*-->`);
    const m = begin.exec(text);
    const endMarker = `<!-- ${name}:end -->`;
    const end = text.indexOf(endMarker);
    if (m === null || end < m.index) throw new Error(`README has no ${name} section markers`);
    text = text.slice(0, m.index + m[0].length) + '\n' + generate() + text.slice(end);
  }
  return text;
}
