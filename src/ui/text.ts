/** Words for counts and the user's files, one rule everywhere in the UI. */

/** "1 file", "3 files", "0 files"; irregular plurals are passed in ("1 class", "2 classes"). */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : pluralForm}`;
}

/** How files reached the lab, as the messages say it: chosen in a file input or dropped on the page. */
export type FileArrival = 'picked' | 'dropped';
