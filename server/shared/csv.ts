/**
 * Characters that make a spreadsheet (Excel, LibreOffice, Google Sheets, Numbers) read a cell as a
 * formula, or that they strip before looking for one: = + - @, their full-width forms ＝ ＋ － ＠
 * (which spreadsheets fold to ASCII), and leading tab, carriage return or line feed. Leading spaces
 * are skipped by some of them too, so " =1+1" is a formula as well.
 */
const FORMULA_TRIGGER = /^[\t\r\n ]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\t\r\n]/;

/**
 * Neutralises CSV injection (OWASP "CSV Injection"): a user-written text cell that a spreadsheet
 * would run as a formula gets a leading apostrophe, which spreadsheets show as text. Apply it to
 * every text cell that users write (names, notes); numbers and ids never need it.
 */
export function neutraliseFormula(value: string | null): string | null {
  if (value === null) return null;
  return FORMULA_TRIGGER.test(value) ? `'${value}` : value;
}
