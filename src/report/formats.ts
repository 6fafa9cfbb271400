/**
 * The one list of report formats (the CLI's --format choices come from it). Its own module so that the
 * CLI can build its flag table without loading the renderers.
 */
export const REPORT_FORMATS = ['table', 'json', 'ndjson', 'markdown', 'html', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
