/**
 * The one place that loads the OpenCV binding. `@u4/opencv4nodejs` looks for its own OpenCV build unless
 * auto-build is disabled (we link Debian's libopencv), and its loader logs to stdout, which belongs to the CLI:
 * both are settled here, before the binding is imported. Every other module imports OpenCV from this file.
 */
import { Log } from '@u4/opencv-build';

Log.silence = true;
process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD ??= '1';

const { default: cv } = await import('@u4/opencv4nodejs');

export default cv;
export type { Mat, VideoCapture, VideoWriter } from '@u4/opencv4nodejs';
