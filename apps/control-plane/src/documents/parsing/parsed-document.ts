/** One run of text from a document: a page of a PDF, or what follows one heading. */
export type DocumentSection = { text: string; page?: number; heading?: string };

export type ParsedDocument = { title: string; sections: DocumentSection[] };

/** What one format's parser returns; `parseDocument` supplies the fallback title and cleans the text. */
export type ParsedContent = { title?: string; sections: DocumentSection[] };

/**
 * Hard caps on the work one document may cause, so a zip bomb or a 50,000-page PDF fails with a
 * reason instead of holding the worker. `maxBytes` (the plan's upload limit) is checked first;
 * these bound what those bytes may expand into.
 */
export type ParseLimits = {
  /** PDFs longer than this are refused before any page is read. */
  maxPages: number;
  /** Extracted text across all sections; ~1.2M tokens at the default. */
  maxCharacters: number;
  /** Declared size of a DOCX's XML parts once unzipped (images are never unzipped). */
  maxUnzippedBytes: number;
  /** CPU time for reading a PDF (the parsing process's), checked between pages. */
  maxMillis: number;
};

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  maxPages: 2_000,
  maxCharacters: 5_000_000,
  maxUnzippedBytes: 100 * 1024 * 1024,
  maxMillis: 120_000,
};
