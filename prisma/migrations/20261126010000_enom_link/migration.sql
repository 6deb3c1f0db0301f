-- AlterTable
ALTER TABLE "processing_module" ADD COLUMN     "available_balance" DECIMAL(14,2),
ADD COLUMN     "balance" DECIMAL(14,2),
ADD COLUMN     "balance_fetched_at" TIMESTAMPTZ(3),
ADD COLUMN     "enom_account" VARCHAR(64),
ADD COLUMN     "enom_party_id" VARCHAR(64),
ADD COLUMN     "last_check_at" TIMESTAMPTZ(3),
ADD COLUMN     "last_check_cause" VARCHAR(32),
ADD COLUMN     "last_check_detail" VARCHAR(1000),
ADD COLUMN     "last_check_ok" BOOLEAN;

-- CreateTable
CREATE TABLE "enom_call" (
    "id" UUID NOT NULL,
    "module_id" UUID,
    "order_id" UUID,
    "command" VARCHAR(64) NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "outcome" VARCHAR(32) NOT NULL,
    "response_number" VARCHAR(16),
    "request_id" VARCHAR(128),

    CONSTRAINT "enom_call_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "enom_call_module_id_started_at_idx" ON "enom_call"("module_id", "started_at");

-- CreateIndex
CREATE INDEX "enom_call_order_id_idx" ON "enom_call"("order_id");

-- AddForeignKey
ALTER TABLE "enom_call" ADD CONSTRAINT "enom_call_module_id_fkey" FOREIGN KEY ("module_id") REFERENCES "processing_module"("id") ON DELETE CASCADE ON UPDATE CASCADE;

