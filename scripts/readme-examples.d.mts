// Types for scripts/readme-examples.mjs (plain JavaScript run by `npm run examples`; the test is TypeScript).

export declare const repoRoot: string;
export declare const EXAMPLE_FORMATS: string[];
export declare const HTML_EXAMPLE: string;
export declare const PNG_EXAMPLE: string;
export declare function compactJson(value: unknown, indent?: string): string;
/** `lib`: the package (analyze, renderReport, renderAttemptNdjson, toJsonContract, parseSysctl, buildEvidence). */
export declare function generateExamples(lib: Record<string, unknown>): Promise<{
  sections: Record<string, string>;
  files: Record<string, string>;
}>;
export declare function readSection(readme: string, format: string): string | null;
export declare function applyExamples(readme: string, sections: Record<string, string>): string;
