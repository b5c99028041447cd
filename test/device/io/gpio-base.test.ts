import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  findMainChip,
  GpioLookupError,
  listGpioChips,
  sysfsLine,
} from '../../../device/io/gpio-base.ts';

type Chip = readonly [base: number, label: string, ngpio: number];

/** Writes a fake `/sys/class/gpio` tree: `export`, `unexport` and one dir per chip. */
function fakeSysfs(chips: readonly Chip[]): string {
  const root = mkdtempSync(join(tmpdir(), 'babel-gpio-'));
  writeFileSync(join(root, 'export'), '');
  writeFileSync(join(root, 'unexport'), '');
  for (const [base, label, ngpio] of chips) {
    const dir = join(root, `gpiochip${base}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'base'), `${base}\n`);
    writeFileSync(join(dir, 'label'), `${label}\n`);
    writeFileSync(join(dir, 'ngpio'), `${ngpio}\n`);
  }
  return root;
}

const PI4: Chip[] = [
  [512, 'pinctrl-bcm2711', 58],
  [570, 'raspberrypi-exp-gpio', 8],
];
const PI5: Chip[] = [
  [512, 'gpio-brcmstb@107d508500', 32],
  [544, 'gpio-brcmstb@107d508520', 4],
  [548, 'gpio-brcmstb@107d517c00', 17],
  [565, 'gpio-brcmstb@107d517c20', 6],
  [571, 'pinctrl-rp1', 54],
];
const PI3_OLD_KERNEL: Chip[] = [
  [0, 'pinctrl-bcm2835', 54],
  [504, 'raspberrypi-exp-gpio', 8],
];

const layouts: ReadonlyArray<[string, Chip[], string, number]> = [
  ['Pi 4 on a current kernel', PI4, 'pinctrl-bcm2711', 512 + 17],
  ['Pi 5 (rp1 among SoC chips)', PI5, 'pinctrl-rp1', 571 + 17],
  ['Pi 3 on an old kernel (base 0)', PI3_OLD_KERNEL, 'pinctrl-bcm2835', 17],
  ['Pi Zero 2 on a current kernel', [[512, 'pinctrl-bcm2835', 54]], 'pinctrl-bcm2835', 529],
];

for (const [name, chips, label, line17] of layouts) {
  test(`${name}: BCM 17 is sysfs line ${line17}`, (t) => {
    const root = fakeSysfs(chips);
    try {
      t.is(findMainChip(listGpioChips(root), root).label, label);
      t.is(sysfsLine(17, root), line17);
      t.is(sysfsLine(0, root), line17 - 17);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('chips are listed in numeric order with their fields', (t) => {
  const root = fakeSysfs(PI5);
  try {
    t.deepEqual(
      listGpioChips(root).map((c) => `${c.name} ${c.base} ${c.ngpio} ${c.label}`),
      PI5.map(([b, l, n]) => `gpiochip${b} ${b} ${n} ${l}`),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('no Raspberry Pi chip: a clear error naming what was found', (t) => {
  const root = fakeSysfs([[570, 'raspberrypi-exp-gpio', 8]]);
  try {
    const err = t.throws(() => sysfsLine(17, root), { instanceOf: GpioLookupError });
    t.regex(err.message, /no Raspberry Pi GPIO chip/);
    t.regex(err.message, /gpiochip570 "raspberrypi-exp-gpio"/);
    t.regex(err.message, /pinctrl-bcm2711/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an empty tree and a missing tree are clear errors', (t) => {
  const root = fakeSysfs([]);
  try {
    t.throws(() => sysfsLine(17, root), { message: /no gpiochip entries/ });
    t.throws(() => sysfsLine(17, join(root, 'absent')), {
      instanceOf: GpioLookupError,
      message: /cannot read .*ENOENT.*GPIO sysfs interface/,
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a BCM number the chip does not have is refused', (t) => {
  const root = fakeSysfs(PI5);
  try {
    t.throws(() => sysfsLine(54, root), {
      message: /BCM 54 does not exist: pinctrl-rp1 has GPIO 0-53/,
    });
    t.throws(() => sysfsLine(-1, root), { instanceOf: GpioLookupError });
    t.is(sysfsLine(53, root), 571 + 53);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a chip directory without readable fields is skipped', (t) => {
  const root = fakeSysfs(PI4);
  try {
    mkdirSync(join(root, 'gpiochip600'));
    writeFileSync(join(root, 'gpiochip600', 'label'), 'pinctrl-rp1\n');
    t.is(sysfsLine(4, root), 516);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
