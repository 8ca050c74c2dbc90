import { useId, useState } from "react";
import { keySnippet, type SnippetLanguage, type SnippetTarget } from "../lib/snippets";
import { CopyButton } from "./copy-button";

const LANGUAGES: { value: SnippetLanguage; label: string }[] = [
  { value: "curl", label: "curl" },
  { value: "typescript", label: "TypeScript (@vdb/client)" },
  { value: "python", label: "Python" },
  { value: "chromadb", label: "Python (chromadb)" },
];

/** Ready-to-run code for a new key, one language at a time, with a copy button. */
export function CodeSnippets({ target }: { target: SnippetTarget }) {
  const [language, setLanguage] = useState<SnippetLanguage>("curl");
  const baseId = useId();
  const text = keySnippet(language, target);
  return (
    <div className="code-snippets">
      <div role="tablist" aria-label="Code snippet language" className="snippet-tabs">
        {LANGUAGES.map(({ value, label }) => (
          <button
            key={value}
            type="button"
            role="tab"
            id={`${baseId}-${value}`}
            aria-selected={value === language}
            aria-controls={`${baseId}-panel`}
            className={value === language ? "snippet-tab active" : "snippet-tab"}
            onClick={() => setLanguage(value)}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${baseId}-panel`} aria-labelledby={`${baseId}-${language}`}>
        <pre className="snippet" data-testid={`snippet-${language}`}>
          {text}
        </pre>
        <CopyButton text={text} label="Copy code" />
      </div>
    </div>
  );
}
