-- Backends become live configuration edited by admins (docs/backends.md).
ALTER TABLE "Backend" ADD COLUMN "name" TEXT,
ADD COLUMN "apiKeySealed" TEXT,
ADD COLUMN "apiKeyLast4" TEXT,
ADD COLUMN "draining" BOOLEAN NOT NULL DEFAULT false;

-- Existing backends are named after their URL's host (and port).
UPDATE "Backend" SET "name" = substring("url" from '^[a-z]+://([^/?#]+)');
UPDATE "Backend" SET "name" = "id" WHERE "name" IS NULL OR "name" = '';
ALTER TABLE "Backend" ALTER COLUMN "name" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "Backend_url_key" ON "Backend"("url");
