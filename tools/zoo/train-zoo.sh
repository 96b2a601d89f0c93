#!/usr/bin/env bash
# Trains (or continues training) every model of the shipped zoo, one after the other.
# Each run checkpoints every epoch into tools/zoo/runs/<id>/ and is started with --resume,
# so re-running this script after an interruption continues where it stopped. A model whose
# card.json already exists in public/models/<id>/ is skipped. Never run in CI (hours of CPU).
#   usage: nice -n 19 bash tools/zoo/train-zoo.sh [--threads N] [id ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=2
if [[ "${1:-}" == "--threads" ]]; then THREADS="$2"; shift 2; fi
ONLY=("$@")
EPS8=0.03137254901960784  # 8/255

run() {
  local id="$1"; shift
  if [[ ${#ONLY[@]} -gt 0 && ! " ${ONLY[*]} " =~ " ${id} " ]]; then return; fi
  if [[ -f "public/models/${id}/card.json" ]]; then echo "skip ${id} (shipped)"; return; fi
  mkdir -p tools/zoo/runs
  echo "=== ${id} $(date -u +%FT%TZ)"
  /usr/bin/python3 tools/zoo/train.py "$@" --out "tools/zoo/runs/${id}" --export "public/models/${id}" \
    --resume --threads "$THREADS" 2>&1 | tee -a "tools/zoo/runs/${id}.log"
}

# ---- MNIST medium CNN first: cheap, and its trio (ST, PGD, TRADES) feeds the collision presets.
# The medium CNNs' 2-2.5 M weights ship as float16 (half the bytes; public/models stays under
# 60 MB); mnist-medium-st shipped earlier as float32.
run mnist-medium-st --arch mnist_medium --dataset mnist --epochs 4 --seed 0 --floor-clean 0.99 \
  --label 'MNIST medium CNN, standard training'
run mnist-medium-pgd-l2 --arch mnist_medium --dataset mnist --method pgd --norm l2 --eps 2.0 --steps 7 \
  --step-size 0.7 --eps-ramp 1 --epochs 3 --batch-size 256 --seed 0 --weights-dtype float16 --label 'MNIST medium CNN, PGD-AT L2 2.0'
run mnist-medium-trades-l2 --arch mnist_medium --dataset mnist --method trades --norm l2 --eps 2.0 --steps 7 \
  --step-size 0.7 --eps-ramp 1 --epochs 3 --batch-size 256 --seed 0 --weights-dtype float16 --label 'MNIST medium CNN, TRADES L2 2.0 (beta 6)'
# ---- MNIST small CNN (Gowal et al.), the ST/AT pair with epoch snapshots
run mnist-small-pgd-l2 --arch mnist_small --dataset mnist --method pgd --norm l2 --eps 2.0 --steps 7 \
  --step-size 0.7 --eps-ramp 1 --epochs 6 --batch-size 256 --seed 0 --snapshots 1,2,5 \
  --label 'MNIST small CNN, PGD-AT L2 2.0'
# ---- CIFAR-10, ResNet-20 (16/32/64, BatchNorm, skips)
run cifar-resnet20-st --arch resnet20 --dataset cifar10 --epochs 24 --optimizer sgd --lr 0.2 \
  --schedule onecycle --seed 0 --floor-clean 0.85 --label 'CIFAR-10 ResNet-20, standard training'
# Fast AT (FGSM with random start, Wong et al. 2020) at a peak learning rate of 0.05. At the
# peak 0.2 of the standard twin both FGSM-RS and N-FGSM lost their robustness within two epochs
# (see README); at 0.05 the epoch-4 checkpoint holds 45.6 % clean and 23 % PGD-10 accuracy.
run cifar-resnet20-fast-linf --arch resnet20 --dataset cifar10 --method fast --norm linf --eps "$EPS8" \
  --epochs 15 --optimizer sgd --lr 0.05 --schedule onecycle --seed 0 --floor-clean 0.60 --floor-robust 0.33 \
  --snapshots 5,10 --label 'CIFAR-10 ResNet-20, fast AT (FGSM-RS) Linf 8/255'
# ---- CIFAR-10 medium CNN (no BatchNorm): Adam 1e-3 as the MNIST CNNs, x0.1 for the last quarter.
# With SGD one-cycle (peak 0.05) and the full ε from the first batch, PGD-AT stayed at chance
# for a whole epoch (loss 2.303, test 10 %); Adam and an ε ramp over two epochs start it.
# Epochs (10 ST, 5 PGD-AT) are what two CPU cores allow next to the other jobs, not tuned.
run cifar-medium-st --arch cifar_medium --dataset cifar10 --epochs 10 --seed 0 --weights-dtype float16 \
  --label 'CIFAR-10 medium CNN, standard training'
run cifar-medium-pgd-l2 --arch cifar_medium --dataset cifar10 --method pgd --norm l2 --eps 0.5 --steps 7 \
  --eps-ramp 2 --epochs 5 --seed 0 --weights-dtype float16 --label 'CIFAR-10 medium CNN, PGD-AT L2 0.5'
echo "=== zoo done $(date -u +%FT%TZ)"
