/** Dense optical flow on small grey images, and label-map propagation by it (the OpenCV binding has neither). */
export { meanEndpointError } from './endpoint.ts';
export { type Flow, type GreyImage, greyImage } from './image.ts';
export { DEFAULT_FLOW, denseFlow, type FlowOptions } from './lucas-kanade.ts';
export { type LabelMap, warpLabels } from './warp-labels.ts';
