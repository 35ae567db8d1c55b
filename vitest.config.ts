import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites start real subprocesses (socat, mosquitto, the daemon) and decode real video: give them room,
    // and run files in separate processes so native bindings never share state between suites.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // The OpenCV binding links Debian's libopencv rather than building its own (device/opencv.ts says why).
    env: {
      OPENCV4NODEJS_DISABLE_AUTOBUILD: '1',
      OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING: '1',
      GLANCE_LOG_LEVEL: 'warn',
    },
  },
});
