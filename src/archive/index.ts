/**
 * pg_dump custom-format archives: streaming reader and writer, COPY text codec, listing,
 * verification and SQL script output.
 */
export * from './format.ts';
export { openArchive, describeEntry, type ArchiveInput, type ArchiveReader, type DataBlock, type LargeObject } from './reader.ts';
export { encodeCopyValue, encodeCopyRow, decodeCopyValue, decodeCopyLine, copyRows, type CopyValue } from './copy-text.ts';
export { formatListing, isListed, entryLine } from './listing.ts';
export { ArchiveWriter, copyTextFromRows, WRITER_VERSION, type WriterEntry, type ArchiveWriterOptions, type ArchiveWriteSummary, type BlockStats } from './writer.ts';
export { verifyArchive, copyColumnCount, type VerifyReport, type TableReport } from './verify.ts';
export { BufferPool } from './buffer-pool.ts';
export { writeSqlScript, quoteIdent } from './sql.ts';
export { readArchiveMetadata, metadataEntry, metadataFromEntries, METADATA_DESC, METADATA_TAG, type ArchiveMetadata } from './metadata.ts';
