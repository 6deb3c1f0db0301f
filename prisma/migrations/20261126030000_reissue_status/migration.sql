-- AlterTable
ALTER TABLE "certificate_order" ADD COLUMN     "reissue_status" VARCHAR(64);

