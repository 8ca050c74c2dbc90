CREATE TABLE "pool_placements" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"pool_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "instances" DROP CONSTRAINT "instances_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "kind" text DEFAULT 'dedicated' NOT NULL;--> statement-breakpoint
ALTER TABLE "pool_placements" ADD CONSTRAINT "pool_placements_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pool_placements_pool_idx" ON "pool_placements" USING btree ("pool_id");