import { Conversation } from './Conversation.ts';
import { Document } from './Document.ts';
import { DocumentChunk } from './DocumentChunk.ts';
import { DocumentFile } from './DocumentFile.ts';
import { McpServerRegistration } from './McpServerRegistration.ts';
import { Message } from './Message.ts';
import { ModelProvider } from './ModelProvider.ts';
import { RefreshToken } from './RefreshToken.ts';
import { Setting } from './Setting.ts';
import { User } from './User.ts';

export {
  Conversation,
  Document,
  DocumentChunk,
  DocumentFile,
  McpServerRegistration,
  Message,
  ModelProvider,
  RefreshToken,
  Setting,
  User,
};

export const ENTITIES = [
  User,
  RefreshToken,
  Conversation,
  Message,
  Document,
  DocumentFile,
  DocumentChunk,
  Setting,
  McpServerRegistration,
  ModelProvider,
];
