/*
 * Knowing, after a lost answer, whether a job's failure was ours. fail() removes the job from
 * Redis with BullMQ's moveToFinished, which deletes the job (keepJobs 0); when the answer to that
 * is lost (a connection dropped at that moment; ioredis sends the command again, or the worker
 * asks again), the second ask hears "no such job", which is also what a lease lost to another
 * worker, or a second fail() of the same lease, hears. So before the move, the failure is
 * claimed under the lock: `<job key>:jsfail` holds "<token> <failed_jobs uuid>" for a while, and
 * a "no such job" with that key still ours means the move was ours.
 */

/** How long the claim of a failure is kept: well past any retry of the fail() that made it. */
export const FAIL_CLAIM_TTL_MS = 10 * 60_000;

/** The claim of a failure as stored: the lease's token and the failed row's uuid. */
export function failClaim(token: string, uuid: string): string {
  return `${token} ${uuid}`;
}

/** Registered with ioredis `defineCommand` beside the other scripts (redis-scripts.ts). */
export const FAIL_SCRIPTS = {
  jobsmithClaimFailure: {
    numberOfKeys: 3,
    lua: `--[[
  Claims a held job's failure for one failed_jobs row, before the job is moved out of Redis.

  KEYS[1] the job's lock  KEYS[2] the job's failure claim  KEYS[3] the job
  ARGV[1] the lease's token  ARGV[2] the failed row's uuid  ARGV[3] how long to keep the claim (ms)
  Returns 1: claimed (move the job now); 0: not ours (the lease was lost, or another fail() of
  this lease claimed it first); 2: an earlier ask of this same failure moved the job already.
]]
local mine = ARGV[1] .. ' ' .. ARGV[2]
local claim = redis.call('GET', KEYS[2])
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  if claim == mine and redis.call('EXISTS', KEYS[3]) == 0 then return 2 end
  return 0
end
if claim and claim ~= mine and string.sub(claim, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then
  return 0
end
redis.call('SET', KEYS[2], mine, 'PX', ARGV[3])
return 1
`,
  },
  jobsmithDropFailureClaim: {
    numberOfKeys: 1,
    lua: `--[[
  Gives up a failure's claim when its failed_jobs row could not be written: the job stays held,
  and a later fail() of the lease, with another row, may claim it.
  KEYS[1] the job's failure claim  ARGV[1] the claim as stored ("<token> <uuid>")
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`,
  },
} as const;
