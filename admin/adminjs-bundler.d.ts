/** The parts of AdminJS's `adminjs/bundler` export the panel uses (the package ships no types for it). */
declare module 'adminjs/bundler' {
  import type AdminJS from 'adminjs';
  export const ADMIN_JS_TMP_DIR: string;
  export const componentsBundler: {
    createEntry(opts: { content: string }): Promise<void>;
    build(): Promise<void>;
  };
  export function generateUserComponentEntry(admin: AdminJS, entryPath: string): string;
}
