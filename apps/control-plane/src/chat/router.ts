import type { TRPCRouterRecord } from "@trpc/server";
import { Deleted } from "@vdb/schemas/answers";
import {
  AskQuestionInput,
  ChatAnswer,
  ChatSession,
  ChatSessionRef,
  ChatSessionWithMessages,
  ListChatSessionsInput,
} from "@vdb/schemas/chat";
import { pageOf } from "@vdb/schemas/pagination";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { askQuestion, streamAnswer } from "./ask-question";
import { deleteSession } from "./delete-session";
import { getSession } from "./get-session";
import { listSessions } from "./list-sessions";

export const chatRouter = {
  /** The whole answer at once. */
  ask: procedure
    .input(AskQuestionInput)
    .output(ChatAnswer)
    .mutation(({ ctx, input }) => askQuestion({ ctx: verbCtx(ctx), input })),
  /** The answer as it is written (SSE): `token` events, then `done` with the stored message. */
  stream: procedure
    .input(AskQuestionInput)
    .subscription(({ ctx, input, signal }) =>
      streamAnswer({ ctx: verbCtx(ctx), input, ...(signal ? { signal } : {}) }),
    ),
  sessions: {
    list: procedure
      .input(ListChatSessionsInput)
      .output(pageOf(ChatSession))
      .query(({ ctx, input }) => listSessions({ ctx: verbCtx(ctx), input })),
    get: procedure
      .input(ChatSessionRef)
      .output(ChatSessionWithMessages)
      .query(({ ctx, input }) => getSession({ ctx: verbCtx(ctx), input })),
    delete: procedure
      .input(ChatSessionRef)
      .output(Deleted)
      .mutation(({ ctx, input }) => deleteSession({ ctx: verbCtx(ctx), input })),
  },
} satisfies TRPCRouterRecord;
