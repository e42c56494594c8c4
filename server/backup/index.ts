export {
  createBackup,
  restoreBackup,
  openArchive,
  tableSummaries,
  compareSummaries,
  checkDumpVersion,
  parseToolVersion,
  defaultTools,
  OperatorError,
  ARCHIVE_FORMAT,
  type Manifest,
  type TableSummary,
  type PgTools,
  type RestoreResult,
} from './backup.service.js';
export { createScheduledBackup, archiveName, BACKUP_JOB, type ScheduledBackupDeps, type ScheduledBackupResult } from './backup.schedule.js';
