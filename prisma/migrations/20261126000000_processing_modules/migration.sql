-- CreateEnum
CREATE TYPE "ModuleEnvironment" AS ENUM ('live', 'test');

-- CreateEnum
CREATE TYPE "MinimalBalancePolicy" AS ENUM ('notify', 'block');

-- CreateTable
CREATE TABLE "processing_module" (
    "id" UUID NOT NULL,
    "product_type" VARCHAR(32) NOT NULL DEFAULT 'ssl_certificate',
    "handler" VARCHAR(32) NOT NULL DEFAULT 'enom',
    "name" VARCHAR(100) NOT NULL,
    "data_center" VARCHAR(100) NOT NULL,
    "department" VARCHAR(100) NOT NULL,
    "sort" INTEGER NOT NULL DEFAULT 0,
    "minimal_balance" DECIMAL(14,2),
    "minimal_balance_policy" "MinimalBalancePolicy" NOT NULL DEFAULT 'notify',
    "environment" "ModuleEnvironment" NOT NULL,
    "api_url" VARCHAR(2048) NOT NULL,
    "username" VARCHAR(255) NOT NULL,
    "password_enc" TEXT NOT NULL,
    "add_new_client" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "deleted_at" TIMESTAMPTZ(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processing_module_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "processing_module_name_key" ON "processing_module"("name");

-- CreateIndex
CREATE INDEX "processing_module_selection_idx" ON "processing_module"("data_center", "environment", "enabled", "sort", "created_at");

