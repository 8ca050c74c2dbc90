import type { ChatAnswer } from "@vdb/schemas/chat";
import { type Command, TENANT_OPTION } from "../command";
import { integerValue, jsonObjectValue, singleArgument, stringValue } from "../option-values";

export const chat: Command = {
  path: ["chat"],
  usage:
    '"<question>" --tenant <slug|id> [--session <id>] [-n <count>] [--collection <name>] [--where <json>]',
  summary: "Ask a question; prints the answer and its numbered citations",
  description:
    "The answer cites its sources as [n]; they are listed below it. The session id goes to stderr:\npass it as --session to ask a follow-up in the same conversation.",
  options: {
    tenant: TENANT_OPTION,
    session: { type: "string", short: "s", value: "<id>", description: "Continue this chat session (cht_…)" },
    results: {
      type: "string",
      short: "n",
      value: "<count>",
      description: "Passages to retrieve, 1-20 (default: 5)",
    },
    collection: {
      type: "string",
      value: "<name>",
      description: 'Collection to answer from (default: "default")',
    },
    where: { type: "string", value: "<json>", description: "Metadata filter for the passages" },
  },
  maxArguments: 1,
  examples: ['vdb chat "How many vacation days do I get?" --tenant acme'],
  prefers: "apiKey",
  async run({ args, values, session }) {
    const message = singleArgument(args, '"<question>"');
    const nResults = integerValue(values, "results", { min: 1, max: 20 });
    const where = jsonObjectValue(values, "where");
    const sessionId = stringValue(values, "session");
    const collection = stringValue(values, "collection");
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const answer = await session.client.chat.ask.mutate({
      tenantId: tenant.id,
      message,
      ...(sessionId ? { sessionId } : {}),
      ...(nResults !== undefined ? { nResults } : {}),
      ...(collection ? { collection } : {}),
      ...(where ? { where } : {}),
    });
    if (!session.json) {
      session.note(
        `session ${answer.sessionId} (${answer.mode} answer; follow up with --session ${answer.sessionId})`,
      );
    }
    session.print(answer, () => formatAnswer(answer));
    return 0;
  },
};

export function formatAnswer(answer: ChatAnswer): string {
  if (answer.citations.length === 0) return answer.answer;
  const sources = answer.citations.map((citation) => {
    const where = [citation.page ? `p. ${citation.page}` : null, citation.heading].filter(Boolean).join(", ");
    const snippet = citation.snippet.replace(/\s+/g, " ").trim();
    return `  [${citation.n}] ${citation.title}${where ? ` (${where})` : ""}\n      ${snippet}`;
  });
  return `${answer.answer}\n\nSources:\n${sources.join("\n")}`;
}
