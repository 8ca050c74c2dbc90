CREATE TABLE "instances" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"runtime" text NOT NULL,
	"desired_state" text NOT NULL,
	"state" text NOT NULL,
	"model" text NOT NULL,
	"dimension" integer NOT NULL,
	"handle_ref" text,
	"url" text,
	"last_error" text,
	"restart_count" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"state_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "instances_updated_idx" ON "instances" USING btree ("updated_at");