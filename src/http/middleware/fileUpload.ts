import multer, { type UploadedFile } from 'multer';
import { Problem, validationFailed } from '../problem.ts';
import type { AppMiddleware } from '../state.ts';

/**
 * Reads one multipart file field into `ctx.state.upload`. The body is parsed as it streams and
 * cut off at `maxBytes` (413) without buffering the rest; a missing field, extra files or a
 * malformed body are 400s, a body that isn't multipart/form-data is 415.
 */
export function fileUpload(field: string, maxBytes: number): AppMiddleware {
  const parse = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 11, fieldSize: 1_024 },
    // Browsers send UTF-8 file names; busboy's default would read them as Latin-1.
    defParamCharset: 'utf8',
  }).single(field);

  return async (ctx, next) => {
    if (!ctx.is('multipart/form-data')) {
      throw new Problem(
        415,
        'unsupported_media_type',
        `Send the document as multipart/form-data in a "${field}" field.`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      parse(ctx.req, ctx.res, (error) => (error ? reject(uploadProblem(error, field, maxBytes)) : resolve()));
    });
    const file: UploadedFile | undefined = (ctx.req as { file?: UploadedFile }).file;
    if (!file) throw validationFailed([{ path: `body.${field}`, message: 'is required (one file)' }]);
    ctx.state.upload = file;
    await next();
  };
}

function uploadProblem(error: unknown, field: string, maxBytes: number): Problem {
  const code = (error as { code?: string }).code;
  if (code === 'LIMIT_FILE_SIZE') {
    return new Problem(
      413,
      'payload_too_large',
      `The file is larger than the limit of ${formatBytes(maxBytes)}.`,
      {
        extensions: { limitBytes: maxBytes },
      },
    );
  }
  if (code === 'LIMIT_UNEXPECTED_FILE' || code === 'LIMIT_FILE_COUNT') {
    return validationFailed([{ path: `body.${field}`, message: 'send exactly one file, in this field' }]);
  }
  if (code?.startsWith('LIMIT_')) {
    return validationFailed([{ path: 'body', message: 'has too many or too large form fields' }]);
  }
  return new Problem(400, 'malformed_body', 'The multipart body could not be read.');
}

const formatBytes = (bytes: number) =>
  bytes >= 1024 * 1024
    ? `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) ? 1 : 0)} MB`
    : `${bytes} bytes`;
