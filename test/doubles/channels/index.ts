/**
 * The channels double: a ChannelSource over a JSON file that a test (or the demo) writes and a
 * worker subprocess reads, with scripted faults thrown as GramJS's own error classes.
 *
 * ```ts
 * const file = ChannelsFile.create(path.join(dir, 'channels.json'));
 * file.post('@news', { text: 'first' });
 * // in the app (a worker subprocess): const source = fileChannelSource({ file: process.env.CHANNELS_FILE! });
 * file.post('@news', { text: 'second' });                 // seen by the next readSince
 * file.fault({ op: 'readSince', kind: 'flood_wait', seconds: 2 }); // the next readSince throws FloodWaitError
 * file.calls();                                            // every call of every process
 * ```
 */
export {
  ChannelsFile,
  readCalls,
  type DoubleCall,
  type DoubleFault,
  type DoubleFaultKind,
  type DoubleMedia,
  type DoubleMessage,
  type DoubleOp,
  type DoubleState,
} from './file.js';
export { fileChannelSource, type FileChannelSourceOptions } from './source.js';
