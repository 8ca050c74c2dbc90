import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config";

/**
 * The key that signs disk upload URLs: UPLOAD_URL_SECRET, or one generated at first start and
 * kept in DATA_DIR so open upload URLs survive a restart. Several control planes on different
 * machines must share UPLOAD_URL_SECRET (or use S3, whose URLs are presigned by AWS).
 */
export function resolveUploadSecret(config: Config): string {
  if (config.UPLOAD_URL_SECRET) return config.UPLOAD_URL_SECRET;
  const file = path.join(config.DATA_DIR, "upload-url-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(config.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
