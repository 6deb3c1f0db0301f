-- CreateEnum
CREATE TYPE "OrderStatus" AS ENUM ('purchasing', 'outcome_unknown', 'awaiting_configuration', 'processing', 'awaiting_approval', 'approved', 'issued', 'rejected', 'refunded', 'closed', 'failed');

-- CreateEnum
CREATE TYPE "AttemptState" AS ENUM ('sending', 'succeeded', 'failed', 'unknown', 'reconciled_found', 'reconciled_absent');

-- CreateEnum
CREATE TYPE "TaskStatus" AS ENUM ('open', 'resolved');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('pending', 'running', 'done', 'failed');

-- AlterTable
ALTER TABLE "processing_module" ADD COLUMN     "low_balance_since" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "certificate_order" (
    "id" UUID NOT NULL,
    "module_id" UUID NOT NULL,
    "caller" VARCHAR(64) NOT NULL,
    "service_id" VARCHAR(128) NOT NULL,
    "environment" "ModuleEnvironment" NOT NULL,
    "product_code" VARCHAR(100) NOT NULL,
    "prod_type" INTEGER NOT NULL,
    "family" VARCHAR(32) NOT NULL,
    "years" INTEGER NOT NULL,
    "domain" VARCHAR(255) NOT NULL,
    "sans" TEXT[],
    "status" "OrderStatus" NOT NULL,
    "enom_status_id" INTEGER,
    "enom_status_text" VARCHAR(100),
    "enom_status_unknown" BOOLEAN NOT NULL DEFAULT false,
    "enom_cert_id" VARCHAR(32),
    "enom_order_id" VARCHAR(32),
    "amount" DECIMAL(14,2),
    "csr" TEXT,
    "web_server_type" INTEGER,
    "approver_email" VARCHAR(255),
    "dcv_method" VARCHAR(16),
    "dcv" JSONB,
    "contacts" JSONB,
    "approvers" TEXT[],
    "certificate" TEXT,
    "chain" TEXT,
    "serial_number" VARCHAR(128),
    "issued_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "private_key_enc" TEXT,
    "renewal_of_id" UUID,
    "error_code" VARCHAR(64),
    "error_detail" VARCHAR(2000),
    "closed_at" TIMESTAMPTZ(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "certificate_order_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service_lock" (
    "service_id" VARCHAR(128) NOT NULL,
    "order_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "service_lock_pkey" PRIMARY KEY ("service_id")
);

-- CreateTable
CREATE TABLE "order_attempt" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "account_key" VARCHAR(64) NOT NULL,
    "command" VARCHAR(64) NOT NULL,
    "state" "AttemptState" NOT NULL,
    "snapshot" JSONB,
    "result" JSONB,
    "error_code" VARCHAR(64),
    "error_detail" VARCHAR(2000),
    "caller" VARCHAR(64),
    "request_id" VARCHAR(128),
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "order_attempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_lease" (
    "account_key" VARCHAR(64) NOT NULL,
    "holder" VARCHAR(128) NOT NULL,
    "locked_until" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "account_lease_pkey" PRIMARY KEY ("account_key")
);

-- CreateTable
CREATE TABLE "idempotency_key" (
    "id" UUID NOT NULL,
    "caller" VARCHAR(64) NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "method" VARCHAR(8) NOT NULL,
    "path" VARCHAR(512) NOT NULL,
    "fingerprint" VARCHAR(64) NOT NULL,
    "locked_at" TIMESTAMPTZ(3),
    "order_id" UUID,
    "response_status" INTEGER,
    "response_body" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "idempotency_key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task" (
    "id" UUID NOT NULL,
    "department" VARCHAR(100) NOT NULL,
    "module_id" UUID,
    "order_id" UUID,
    "kind" VARCHAR(64) NOT NULL,
    "title" VARCHAR(300) NOT NULL,
    "message" VARCHAR(4000) NOT NULL,
    "last_error" VARCHAR(2000),
    "action" VARCHAR(2000) NOT NULL,
    "dedupe_key" VARCHAR(200),
    "status" "TaskStatus" NOT NULL DEFAULT 'open',
    "resolved_by" VARCHAR(64),
    "resolution" VARCHAR(2000),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job" (
    "id" UUID NOT NULL,
    "kind" VARCHAR(64) NOT NULL,
    "key" VARCHAR(200) NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "status" "JobStatus" NOT NULL DEFAULT 'pending',
    "run_at" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL DEFAULT 10,
    "locked_by" VARCHAR(128),
    "locked_until" TIMESTAMPTZ(3),
    "last_error" VARCHAR(2000),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "setting" (
    "key" VARCHAR(64) NOT NULL,
    "value" JSONB NOT NULL,
    "updated_by" VARCHAR(64),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "certificate_order_service_id_idx" ON "certificate_order"("service_id");

-- CreateIndex
CREATE INDEX "certificate_order_module_id_status_idx" ON "certificate_order"("module_id", "status");

-- CreateIndex
CREATE INDEX "certificate_order_status_idx" ON "certificate_order"("status");

-- CreateIndex
CREATE INDEX "certificate_order_caller_created_at_idx" ON "certificate_order"("caller", "created_at");

-- CreateIndex
CREATE INDEX "certificate_order_expires_at_idx" ON "certificate_order"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "certificate_order_enom_cert_id_module_id_key" ON "certificate_order"("enom_cert_id", "module_id");

-- CreateIndex
CREATE UNIQUE INDEX "service_lock_order_id_key" ON "service_lock"("order_id");

-- CreateIndex
CREATE INDEX "order_attempt_order_id_idx" ON "order_attempt"("order_id");

-- CreateIndex
CREATE INDEX "order_attempt_account_key_state_idx" ON "order_attempt"("account_key", "state");

-- CreateIndex
CREATE INDEX "idempotency_key_created_at_idx" ON "idempotency_key"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "idempotency_key_caller_key_key" ON "idempotency_key"("caller", "key");

-- CreateIndex
CREATE UNIQUE INDEX "task_dedupe_key_key" ON "task"("dedupe_key");

-- CreateIndex
CREATE INDEX "task_status_department_idx" ON "task"("status", "department");

-- CreateIndex
CREATE INDEX "task_module_id_idx" ON "task"("module_id");

-- CreateIndex
CREATE INDEX "task_order_id_idx" ON "task"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "job_key_key" ON "job"("key");

-- CreateIndex
CREATE INDEX "job_status_run_at_idx" ON "job"("status", "run_at");

-- AddForeignKey
ALTER TABLE "certificate_order" ADD CONSTRAINT "certificate_order_module_id_fkey" FOREIGN KEY ("module_id") REFERENCES "processing_module"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_attempt" ADD CONSTRAINT "order_attempt_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "certificate_order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

