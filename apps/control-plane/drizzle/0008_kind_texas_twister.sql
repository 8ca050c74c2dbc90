ALTER TABLE "jobs" ADD COLUMN "claimed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "jobs_tenant_running_idx" ON "jobs" USING btree ("tenant_id") WHERE status = 'running';--> statement-breakpoint
CREATE INDEX "jobs_tenant_claimed_idx" ON "jobs" USING btree ("tenant_id","claimed_at");