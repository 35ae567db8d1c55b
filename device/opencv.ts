/**
 * The one place that loads the OpenCV binding. `@u4/opencv4nodejs` looks for its own OpenCV build unless
 * auto-build is disabled (we link Debian's libopencv), and its loader logs to stdout, which belongs to the CLI:
 * both are settled here, before the binding is imported. Every other module imports OpenCV from this file.
 *
 * External memory tracking is off: with it, Mats allocated by `readAsync` on libuv's worker threads report
 * their size to V8 from those threads, which crashes V8's garbage collector ("Check failed: marking_done_")
 * as soon as two streams decode at once. Without it V8 does not see image memory, so the pipeline releases
 * each frame's Mat explicitly when the frame has passed every stage (device/pipeline.ts).
 */
import { Log } from '@u4/opencv-build';

Log.silence = true;
process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD ??= '1';
process.env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING ??= '1';

const { default: cv } = await import('@u4/opencv4nodejs');

export default cv;
export type { Mat, VideoCapture, VideoWriter } from '@u4/opencv4nodejs';
