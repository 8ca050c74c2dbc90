import { z } from "zod";
import { ChatMessage, ChatSessionId, MAX_QUESTION_CHARS } from "./chat";
import { idSchema, TenantId } from "./ids";
import { CollectionName, DEFAULT_COLLECTION } from "./instances";

/**
 * The embeddable chat widget a tenant pastes into its own site. Its settings are edited in the
 * console; a visitor's browser gets a short-lived, chat-only embed token for it, issued only when
 * the request's Origin is one of `allowedOrigins` (checked by the control plane).
 */
export const WidgetId = idSchema("widget");
export type WidgetId = z.infer<typeof WidgetId>;

/**
 * A web origin exactly as browsers send it in the `Origin` header: scheme, host and optional
 * port, nothing else (`https://example.com`, `http://localhost:5173`).
 */
export const WidgetOrigin = z
  .string()
  .trim()
  .max(200)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
      } catch {
        return false;
      }
    },
    { message: 'must be an origin like "https://example.com" (scheme and host, optional port, no path)' },
  );
export type WidgetOrigin = z.infer<typeof WidgetOrigin>;

const HexColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, { message: 'must be a colour like "#4f46e5"' });

export const WidgetTheme = z.strictObject({
  /** Launcher bubble, header and the visitor's own messages. */
  primaryColor: HexColor.default("#4f46e5"),
  /** Text drawn on `primaryColor`. */
  textColor: HexColor.default("#ffffff"),
  position: z.enum(["bottom-right", "bottom-left"]).default("bottom-right"),
  /** Header of the chat panel. */
  title: z.string().trim().min(1).max(60).default("Ask us anything"),
  /** First message a visitor sees. */
  greeting: z.string().trim().max(300).default("Hi! Ask me a question about our documentation."),
});
export type WidgetTheme = z.infer<typeof WidgetTheme>;

export const WidgetFields = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Sites allowed to embed the widget; empty means nowhere (the widget is unavailable). */
  allowedOrigins: z
    .array(WidgetOrigin)
    .max(50)
    .refine((origins) => new Set(origins).size === origins.length, { message: "must not repeat an origin" }),
  theme: WidgetTheme.default(WidgetTheme.parse({})),
  /** The collection visitors' questions are answered from. */
  collection: CollectionName.default(DEFAULT_COLLECTION),
  /** A disabled widget issues no tokens; the snippet stays valid. */
  enabled: z.boolean().default(true),
});

export const CreateWidgetInput = WidgetFields.extend({ tenantId: TenantId });
export type CreateWidgetInput = z.input<typeof CreateWidgetInput>;

export const WidgetRef = z.strictObject({ tenantId: TenantId, widgetId: WidgetId });
export type WidgetRef = z.infer<typeof WidgetRef>;

/** Any subset of the fields; `theme` fields merge into the current theme. */
export const UpdateWidgetInput = WidgetRef.extend({
  name: WidgetFields.shape.name.optional(),
  allowedOrigins: WidgetFields.shape.allowedOrigins.optional(),
  theme: WidgetTheme.partial().optional(),
  collection: CollectionName.optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWidgetInput = z.input<typeof UpdateWidgetInput>;

export const ListWidgetsInput = z.strictObject({ tenantId: TenantId });
export type ListWidgetsInput = z.infer<typeof ListWidgetsInput>;

export const Widget = z.object({
  id: WidgetId,
  tenantId: TenantId,
  name: z.string(),
  allowedOrigins: z.array(z.string()),
  theme: WidgetTheme,
  collection: z.string(),
  enabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Widget = z.infer<typeof Widget>;

/** What a visitor's browser learns about a widget: its look, never its tenant's settings. */
export const PublicWidgetConfig = z.object({
  widgetId: WidgetId,
  theme: WidgetTheme,
});
export type PublicWidgetConfig = z.infer<typeof PublicWidgetConfig>;

/**
 * A widget visitor's own random id, kept in the visitor's browser (localStorage). It is the
 * visitor's only credential to its conversation, so it is long and random; the control plane
 * issues it with the first embed token and binds every later token to it.
 */
export const VisitorId = z.string().regex(/^vis_[0-9a-z]{24}$/, {
  message: 'must be a visitor id like "vis_" followed by 24 lowercase letters or digits',
});
export type VisitorId = z.infer<typeof VisitorId>;

/** Body of `POST /embed/token` (the widget id may also be sent as `?widgetId=`). */
export const EmbedTokenRequest = z.strictObject({
  widgetId: WidgetId,
  /** The visitor id this browser already holds; a new one is issued when absent. */
  visitorId: VisitorId.optional(),
});
export type EmbedTokenRequest = z.infer<typeof EmbedTokenRequest>;

export const EmbedTokenResponse = z.object({
  /** `Authorization: Bearer <token>` for the widget's chat routes, from the same Origin only. */
  token: z.string(),
  expiresAt: z.iso.datetime(),
  /** Seconds until expiry, so a browser with a wrong clock can still refresh in time. */
  expiresInSeconds: z.number().int().positive(),
  visitorId: VisitorId,
  config: PublicWidgetConfig,
});
export type EmbedTokenResponse = z.infer<typeof EmbedTokenResponse>;

/** The claims of an embed token (ES256, same keys as instance tokens, different audience). */
export const EmbedTokenClaims = z.object({
  iss: z.string(),
  /** `vdb:widget:<widgetId>`: instances (audience `vdb:instance:…`) refuse these tokens. */
  aud: z.string(),
  /** The visitor id. */
  sub: VisitorId,
  kind: z.literal("embed"),
  scope: z.literal("chat"),
  tenant: TenantId,
  widget: WidgetId,
  /** The Origin the token was issued to; requests from any other Origin are refused. */
  origin: z.string(),
  exp: z.number(),
  iat: z.number(),
  jti: z.string(),
});
export type EmbedTokenClaims = z.infer<typeof EmbedTokenClaims>;

/** The audience of embed tokens for one widget. */
export function widgetAudience(widgetId: string): string {
  return `vdb:widget:${widgetId}`;
}

/** Body of a visitor's `POST /embed/widgets/{widgetId}/chat`: the widget picks the collection. */
export const WidgetChatInput = z.strictObject({
  /** Continue this conversation (it must be the visitor's own); a new one is opened when absent. */
  sessionId: ChatSessionId.optional(),
  message: z.string().trim().min(1).max(MAX_QUESTION_CHARS),
});
export type WidgetChatInput = z.infer<typeof WidgetChatInput>;

/** A visitor's conversation as the widget shows it after a reload (`sessionId` null: none yet). */
export const VisitorConversation = z.object({
  sessionId: ChatSessionId.nullable(),
  messages: z.array(ChatMessage),
});
export type VisitorConversation = z.infer<typeof VisitorConversation>;
