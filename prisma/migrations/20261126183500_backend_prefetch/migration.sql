-- AlterTable
ALTER TABLE "Backend" ADD COLUMN     "prefetch" INTEGER;
