// Model names accepted by --model: resnet20, resnet56, resnet<6N+2>, resnet<depth>_<width>
// (open_lth's cifar_resnet_<depth>_<width> also accepted), wrn16_8 (= cifar_resnet_14_128),
// vgg11/13/16/19, resnet18 (CIFAR stem) and resnet18_imagenet_stem.
import { CifarResNet } from './cifar_resnet.js';
import type { Model } from './model.js';
import { ResNet18 } from './resnet18.js';
import { Vgg } from './vgg.js';

export const MODEL_NAMES = ['resnet20', 'resnet56', 'wrn16_8', 'vgg11', 'vgg13', 'vgg16', 'vgg19', 'resnet18', 'resnet18_imagenet_stem'];

export function createModel(name: string, numClasses = 10): Model {
  let m: RegExpExecArray | null;
  if (name === 'wrn16_8') return new CifarResNet(14, 128, numClasses, 'wrn16_8');
  if ((m = /^(?:resnet|cifar_resnet_)(\d+)(?:_(\d+))?$/.exec(name)) && name !== 'resnet18') {
    const depth = Number(m[1]);
    return new CifarResNet(depth, m[2] ? Number(m[2]) : 16, numClasses, name);
  }
  if ((m = /^(?:vgg|cifar_vgg_)(\d+)$/.exec(name))) return new Vgg(Number(m[1]), numClasses);
  if (name === 'resnet18') return new ResNet18('cifar', numClasses);
  if (name === 'resnet18_imagenet_stem') return new ResNet18('imagenet', numClasses);
  throw new Error(`unknown model '${name}'; choose one of ${MODEL_NAMES.join(', ')} (or resnet<6N+2>[_<width>])`);
}
