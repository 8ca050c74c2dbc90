import type { KMSClient } from "@aws-sdk/client-kms";

/**
 * Bound into every data key's encryption: KMS decrypts a ciphertext only with the context it was
 * made with, so a data key generated for another purpose (or another application) is refused.
 */
export const KMS_ENCRYPTION_CONTEXT = { purpose: "vdb-master-key" } as const;

/**
 * The master key as AWS KMS keeps it (envelope encryption): a 32-byte data key that KMS generated
 * under `keyId`, held by VDB only as KMS's ciphertext (`aws kms generate-data-key … --query
 * CiphertextBlob`). Decrypted here, once per start; the plaintext lives in this process's memory
 * only. Whoever reads the store or the environment without the IAM right to `kms:Decrypt` on
 * `keyId` has nothing that opens the signing keys.
 */
export async function decryptDataKey(opts: {
  keyId: string;
  /** Base64 of the CiphertextBlob. */
  ciphertext: string;
  /** The SDK's default region and credentials chain when omitted (the ECS task role on AWS). */
  client?: KMSClient;
  /** Which setting held the ciphertext, for the error message. */
  setting: string;
}): Promise<Buffer> {
  // Loaded only by the control planes that use KMS: most never do, and every start would pay for it.
  const { DecryptCommand, KMSClient: Client } = await import("@aws-sdk/client-kms");
  const client = opts.client ?? new Client({});
  let plaintext: Uint8Array | undefined;
  try {
    ({ Plaintext: plaintext } = await client.send(
      new DecryptCommand({
        KeyId: opts.keyId,
        CiphertextBlob: Buffer.from(opts.ciphertext, "base64"),
        EncryptionContext: KMS_ENCRYPTION_CONTEXT,
      }),
    ));
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(
      `AWS KMS could not decrypt ${opts.setting} with key ${opts.keyId} (${reason}). It must be the CiphertextBlob of \`aws kms generate-data-key --key-id ${opts.keyId} --key-spec AES_256 --encryption-context purpose=vdb-master-key\`, and this process needs kms:Decrypt on that key`,
    );
  }
  if (plaintext?.length !== 32) {
    throw new Error(`${opts.setting} is not a 32-byte data key (generate it with --key-spec AES_256)`);
  }
  return Buffer.from(plaintext);
}
