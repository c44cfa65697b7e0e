-- Dead letters bounded in bytes: at most 64 KiB of each input is kept, with
-- the input's own length beside it (`original_size`), and the writer trims
-- the table to a byte budget as well as a row count
-- (TICKETERA_DEAD_LETTER_MAX_BYTES). Letters kept before this keep their
-- first 64 KiB.
ALTER TABLE dead_letters ADD COLUMN original_size bigint;
UPDATE dead_letters SET original_size = octet_length(raw);
UPDATE dead_letters SET raw = substring(raw FROM 1 FOR 65536) WHERE octet_length(raw) > 65536;
ALTER TABLE dead_letters ALTER COLUMN original_size SET NOT NULL;
