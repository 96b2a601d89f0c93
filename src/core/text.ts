/**
 * Text that came from a file (model and layer names, class names, paths) is shown to
 * people: in a terminal, where an ESC byte can rewrite the screen or the window title, and
 * in CSV files a spreadsheet opens, where a cell starting with = or @ is run as a formula.
 * These helpers make such text inert; they never change ordinary names.
 */

/** C0 controls, DEL and C1 controls (the C1 CSI 0x9b starts an escape sequence on its own), plus bidi overrides. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Replace control characters by visible escapes (\x1b, \u202e); newlines too, so a name stays on its line. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Longest name quoted in a message: a 1 MB layer name is not a message. */
export const MAX_QUOTED_NAME = 80;

/** A name (or any value) from a file, for a one-line message: escaped, cut to MAX_QUOTED_NAME characters, strings quoted. */
export function quoteName(value: unknown): string {
  // Non-strings (a number where a name belongs, a list) are shown as JSON, unquoted.
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const short = escapeControl(text.length > MAX_QUOTED_NAME ? `${text.slice(0, MAX_QUOTED_NAME)}…` : text);
  return typeof value === 'string' ? `"${short}"` : short;
}

/**
 * Text for a CSV cell that a spreadsheet will not evaluate: text starting with =, +, -, @,
 * tab or carriage return gets a leading apostrophe (the OWASP CSV-injection advice), so a
 * class or layer name like "=HYPERLINK(…)" stays text. Apply to text only: numbers are
 * written as numbers, and a negative number is not a formula.
 */
export function neutralizeFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
