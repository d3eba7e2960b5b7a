// The part of multer 2's API Parley uses (the package ships no types).
declare module 'multer' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface UploadedFile {
    fieldname: string;
    originalname: string;
    mimetype: string;
    size: number;
    buffer: Buffer;
  }
  interface StorageEngine {
    readonly kind?: 'storage';
  }
  interface MulterOptions {
    storage?: StorageEngine;
    limits?: { fileSize?: number; files?: number; fields?: number; parts?: number; fieldSize?: number };
    defParamCharset?: string;
  }
  type NodeMiddleware = (
    request: IncomingMessage & { file?: UploadedFile; body?: unknown },
    response: ServerResponse,
    next: (error?: unknown) => void,
  ) => void;
  interface Multer {
    single(field: string): NodeMiddleware;
  }
  interface MulterFactory {
    (options?: MulterOptions): Multer;
    memoryStorage(): StorageEngine;
    MulterError: new (code: string, field?: string) => Error & { code: string; field?: string };
  }
  const multer: MulterFactory;

  export type { UploadedFile };
  export default multer;
}
