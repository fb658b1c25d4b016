"""`make bench`: errkb's speed and memory, on synthetic and on the real articles.

1. Generates seeded synthetic knowledge bases in the real article format
   (English and Chinese text drawn from a Zipf-weighted vocabulary) into a
   temporary folder, and checks a sample with `errkb.validate.check_kb`.
2. Per size: a full `kb index --full` as its own process (wall time,
   articles/s, peak RSS, index size), incremental `kb index` runs after one
   edit and one deletion, in-process query latency of
   `run_search` (what `KnowledgeBase.search` runs after its staleness check,
   which is timed apart) for short, Chinese and long-paste queries, and the
   peak RSS of a `kb search --json` process.
3. End to end on `kb/`: whole `kb search` processes against a floor that only
   imports what they must import, floor and kb runs alternating, all the
   commands interleaved round by round, medians (the floor's median over all
   runs of the cases that share it);
   `kb --help`, `kb search --help` and `kb --version` (Click's own) timed too.
4. Prints tables and the goals (PASS/FAIL/SKIP), writes build/bench/bench.json.

Usage: .venv/bin/python scripts/bench.py [--sizes 1000,10000] [--huge] [--runs N] [--quick]
Stdlib only (plus errkb). Always exits 0 when it could measure: goals are reported, not enforced.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from errkb import __version__ as errkb_version  # noqa: E402
from errkb.kb import KnowledgeBase  # noqa: E402
from errkb.tags import CAUSES, PLATFORMS  # noqa: E402
from errkb.validate import GUIDES, check_kb  # noqa: E402

PYTHON = Path(sys.executable)
KB = PYTHON.parent / "kb" if (PYTHON.parent / "kb").exists() else ROOT / ".venv" / "bin" / "kb"
OUT = ROOT / "build" / "bench" / "bench.json"
REAL_KB = ROOT / "kb"
SEED = 20261121
DEFAULT_SIZES = (1000, 10000)
HUGE_SIZE = 100000
QUICK_SIZE = 300
QUERIES_PER_KIND = 60
WARMUP_QUERIES = 15
SAMPLE_CHECKED = 40  # the first articles only link to earlier ones: a closed set
RELATED_WINDOW = 50
FLOOR_SEARCH = "import click, whoosh.index, whoosh.searching, whoosh.query"
FLOOR_CLICK = "import click"
#: The goals: `kb search` within this factor of the import floor; Click's
#: own `--help` and `--version` within this many milliseconds; a full build
#: of 10,000 articles at this rate or faster, in one process.
SEARCH_FLOOR_RATIO = 1.3
CLICK_COMMAND_MS = 150.0
BUILD_ARTICLES_PER_S = 700
#: A query running longer than max(QUERY_TIMEOUT, QUERY_TIMEOUT_PER_ARTICLE * n)
#: is cut (interrupted) and counted at that time: some searches never end.
QUERY_TIMEOUT = 5.0
QUERY_TIMEOUT_PER_ARTICLE = 0.0005
#: After this many cut queries of one kind, the rest of that kind is skipped.
MAX_CUT_PER_KIND = 5
#: Whole search processes are killed after max(60 s, 2 ms per article).
SEARCH_PROCESS_TIMEOUT = 60.0
SEARCH_PROCESS_TIMEOUT_PER_ARTICLE = 0.002
BUILD_TIMEOUT = 3600.0

# -- vocabulary ----------------------------------------------------------------
# Rank order matters: earlier words are drawn more often (Zipf weights), so the
# index sees a few very common terms and a long tail of rare ones.


def words(text: str) -> list[str]:
    """The whitespace-separated words of a multi-line constant."""
    return text.split()


EN_FUNCTION = words("""the to your a and is of in for on it with this not be you or can if please at from that as are an by
has was will then after again before no may when only more all""")

EN_DOMAIN = words("""payment card account alipay taobao order bank failed pay verification identity information check app
number name error settings code phone passport mobile update limit international online security
checkout transaction balance verify message sms confirm support customer service foreign device
network amount currency refund seller buyer password face scan permit residence expired blocked
locked declined status review upload document profile risk login browser cache version retry
merchant exchange rate fee daily annual total funds insufficient issuer visa mastercard unionpay
debit credit cardholder billing address shipping cart wallet receipt invoice approval reserved
mismatch spelling format surname given letters characters chinese english translation upgrade
download install restart clear open tap select choose enter add remove link bind unbind switch turn
enable disable contact call hotline agent ticket complaint dispute appeal freeze unfreeze unlock
suspicious activity vpn proxy location travel abroad overseas domestic mainland china provider
carrier roaming signal wifi connection timeout server maintenance outage glitch crash screen button
page menu tab field option method channel gateway platform website desktop laptop tablet android
iphone system operator partner notice notification email inbox deadline hours days minutes week
month today later first second new old current previous valid invalid correct wrong same different
exact full partial single multiple small large high low maximum minimum usually sometimes often
never always quickly directly manually automatically successfully temporarily permanently payments
cards orders accounts banks failing verified verifying updated updates limits transactions messages
codes devices fees rates sellers documents reviews attempts attempt requests request approved
rejected pending processing processed completed cancelled canceled unavailable supported unsupported
required requires allowed denied restricted suspended frozen checked confirmed linked bound removed
added entered selected changed renewed issued expires expiry renewal registration registered holder
owner user users guest member members store shop purchase purchases product goods item items price
prices discount coupon voucher deposit withdrawal transfer transfers recipient sender remittance
settlement acquirer chargeback escrow reconciliation authorization authentication biometric
fingerprint liveness camera photo lighting background passport's bank's alibaba wholesale supplier
supplier's quotation tariff customs shipment logistics courier tracking delivery warehouse
compliance regulation regulations policy policies terms agreement consent privacy screening sanction
captcha slider puzzle cooldown throttling threshold quota cap overdraft statement branch counter
teller atm withdrawal province city district embassy consulate immigration""")

_SYLLABLES = words("""bei chang dao feng gu hai heng hua jia jiang jin kang lin long min ning qing rui shan sheng tai tong
wei xin yang yi yuan zhao zhen zhou""")

ZH_WORDS = words("""的 请 了 支付 失败 账户 银行卡 验证 身份 信息 认证 实名 手机号 短信 验证码 银行 订单 淘宝 支付宝 付款 余额 限额 超过 当前 无法 使用 交易 风险 安全 设备 登录 异常 冻结
锁定 限制 已过期 更新 重新 上传 证件 护照 居留许可 姓名 不一致 预留 绑定 解绑 添加 国际 境外 外卡 信用卡 储蓄卡 网络 连接 超时 系统 繁忙 稍后 再试 客服 人工 联系 申诉
审核 处理 成功 完成 确认 输入 密码 错误 次数 过多 人脸 识别 刷脸 扫描 汇率 货币 手续费 金额 退款 商家 卖家 买家 收货 地址 页面 应用 版本 升级 缓存 清除 重启 设置 开通
关闭 功能 暂不支持 该卡 发卡行 拒绝 授权 额度 每日 每年 累计 单笔 提示 显示 出现 问题 原因 方法 需要 可以 是否 已经 正在 暂时 立即 服务 中心 帮助 通知 邮件 资料 有效期
号码 变更 核实 保护 环境 位置 代理 检测 可疑 活动 临时 永久 解除 恢复 正常 等待 小时 工作日 账号 注册 开户 监管 要求 规定 国外 用户 外国人 签证 到期 续签 新护照 同步
照片 清晰 光线 背景 摄像头 权限 允许 收银台 结算 提交 购物车 商品 库存 优惠 红包 花呗 余额宝 转账 收款 付款码 二维码 扫码""")

_HAN = """安百保本边标表别并补部才采参层产长常场车成城程持出除处传创此次从存达打大代单当导到道得灯等低地
点电定东动都度对多而发法反范方放非费分风服福复改干感刚高告格给根更工公功共关观管光广规国果过海行好
合和河黑很红后湖花华化话环黄回会活火机积基及即集计记际继家加价假坚间检简见建将江交角教接节结解界金
今进京经精境静九久旧局举据决军开看康考科可克空口快况来兰劳乐类冷离理力立利连联良两亮量料林领流龙路
律绿论落马满美门面民名明模目南内能年宁农欧排派配朋片平评期齐其起气前强桥青清情庆区取全确然让热人任
日容如入三色山善商上少社身深神生声胜师十时识实史始示世市式事是适收手首受书术数双水顺说思四送速算随
所台太态谈特提体天条通同统头图土团推外完万王网往望围为位文问我无五武物西系细下先现线相香想向象小校
笑新心信星行形性修需许选学雪训亚言研眼演验阳样要业叶一医依宜已以义艺易意因音银引应英营影永用优由有
友右于雨语元原园远院月越云运在早造责增展战站张招照者真阵争整正证政之支知直职指至制治中终众重周州主
助住注转准资子自字总走组最左作坐座""".replace("\n", "")


def zipf_cum_weights(n: int, s: float = 1.1, q: float = 2.7) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights 1/(rank+q)^s for `random.choices`."""
    return list(accumulate(1.0 / (rank + q) ** s for rank in range(1, n + 1)))


@dataclass(frozen=True)
class Vocabulary:
    """English and Chinese words in rank order, with their cumulative weights."""

    en: list[str]
    en_cum: list[float]
    zh: list[str]
    zh_cum: list[float]

    @classmethod
    def make(cls, seed: int) -> Vocabulary:
        """Core words first, then a seeded tail of rare names (banks, shops,
        places) so the vocabulary keeps growing with the knowledge base."""
        rng = random.Random(f"{seed}:vocabulary")
        names = [a + b for a in _SYLLABLES for b in _SYLLABLES if a != b]
        names += [a + b + c for a, b, c in (rng.sample(_SYLLABLES, 3) for _ in range(4000))]
        names = list(dict.fromkeys(names))
        rng.shuffle(names)
        en = list(dict.fromkeys(EN_DOMAIN)) + names
        han_pairs = list(dict.fromkeys(rng.choice(_HAN) + rng.choice(_HAN) for _ in range(4000)))
        zh = list(dict.fromkeys(ZH_WORDS)) + [w for w in han_pairs if w not in ZH_WORDS]
        return cls(en, zipf_cum_weights(len(en)), zh, zipf_cum_weights(len(zh)))


class TextMaker:
    """Sentences and messages in both languages from one seeded generator."""

    def __init__(self, vocab: Vocabulary, rng: random.Random) -> None:
        self.vocab = vocab
        self.rng = rng

    def en_words(self, k: int) -> list[str]:
        return self.rng.choices(self.vocab.en, cum_weights=self.vocab.en_cum, k=k)

    def zh_words(self, k: int) -> list[str]:
        return self.rng.choices(self.vocab.zh, cum_weights=self.vocab.zh_cum, k=k)

    def en_phrase(self, low: int, high: int) -> str:
        """Function words between runs of content words, like English text."""
        out: list[str] = []
        target = self.rng.randint(low, high)
        while len(out) < target:
            if self.rng.random() < 0.6:
                out.append(self.rng.choice(EN_FUNCTION))
            out.extend(self.en_words(self.rng.randint(1, 2)))
        return " ".join(out[:target])

    def en_sentence(self, low: int = 8, high: int = 18) -> str:
        text = self.en_phrase(low, high)
        return text[0].upper() + text[1:] + "."

    def zh_phrase(self, low: int, high: int) -> str:
        return "".join(self.zh_words(self.rng.randint(low, high)))

    def zh_sentence(self) -> str:
        return f"{self.zh_phrase(2, 5)}，{self.zh_phrase(2, 5)}。"

    def en_message(self) -> str:
        text = f"{self.en_phrase(3, 6)}. Please {self.en_phrase(2, 5)}"
        return text[0].upper() + text[1:]

    def zh_message(self) -> str:
        return f"{self.zh_phrase(2, 4)}，请{self.zh_phrase(1, 3)}"


# -- synthetic articles ------------------------------------------------------------

PLATFORM_LABELS = {"taobao": "Taobao", "alipay": "Alipay", "alibaba": "Alibaba.com"}


@dataclass
class Generated:
    """A synthetic knowledge base on disk and what queries need from it."""

    kb_dir: Path
    ids: list[str]
    en_messages: list[list[str]]
    zh_messages: list[list[str]]
    seconds: float
    total_bytes: int

    @property
    def avg_kb(self) -> float:
        return self.total_bytes / max(len(self.ids), 1) / 1024


def article_id(seed: int, i: int) -> str:
    """The id of article `i`, computable without generating the article."""
    rng = random.Random(f"{seed}:id:{i}")
    first, second = rng.sample(EN_DOMAIN[:150], 2)
    return f"{first}-{second}-{i:06d}".replace("'", "")


def fix_label(rng: random.Random, platforms: list[str]) -> str:
    """A bold platform label: one platform, several, or all of them."""
    roll = rng.random()
    if roll < 0.2 or (len(platforms) == 1 and roll < 0.3):
        return "All platforms"
    chosen = [p for p in platforms if rng.random() < 0.6] or [rng.choice(platforms)]
    return " / ".join(PLATFORM_LABELS[p] for p in chosen)


def yaml_list(items: list[str]) -> str:
    """Messages as an indented YAML list of double-quoted strings."""
    return "\n".join(f'    - "{m}"' for m in items)


def make_article(seed: int, i: int, vocab: Vocabulary) -> tuple[str, list[str], list[str]]:
    """One article's Markdown, and its English and Chinese messages."""
    rng = random.Random(f"{seed}:article:{i}")
    text = TextMaker(vocab, rng)
    aid = article_id(seed, i)
    platforms = [p for p in PLATFORMS if rng.random() < 0.5] or [rng.choice(list(PLATFORMS))]
    causes = rng.sample(sorted(CAUSES), rng.randint(1, 3))
    en = [text.en_message() for _ in range(rng.randint(1, 3))]
    zh = [text.zh_message() for _ in range(rng.randint(1, 3))]
    title = text.en_sentence(6, 11).rstrip(".")
    if rng.random() < 0.3:
        title += f" ({text.zh_phrase(1, 2)})"
    earlier = range(max(0, i - RELATED_WINDOW), i)
    related = [article_id(seed, j) for j in rng.sample(earlier, min(len(earlier), rng.randint(1, 3)))]
    source = rng.choice(sorted(GUIDES))
    updated = date(2026, 11, 21) - timedelta(days=rng.randrange(300))
    fixes = "\n".join(
        f"{n}. **{fix_label(rng, platforms)}:** " + " ".join(text.en_sentence() for _ in range(rng.randint(1, 2)))
        for n in range(1, rng.randint(3, 5) + 1)
    )
    why = "\n\n".join(" ".join(text.en_sentence() for _ in range(rng.randint(2, 3))) for _ in range(2))
    prevention = "\n".join(f"- {text.en_sentence(6, 12)}" for _ in range(rng.randint(2, 3)))
    related_md = "\n".join(f"- `{rid}`: {text.en_phrase(4, 8)}" for rid in related) or "- None yet."
    markdown = f"""---
id: {aid}
title: "{title}"
platforms: [{", ".join(platforms)}]
causes: [{", ".join(causes)}]
messages:
  en:
{yaml_list(en)}
  zh:
{yaml_list(zh)}
codes: []
related: []
sources: [{source}]
updated: {updated.isoformat()}
---

## What you see

{text.en_sentence()} The app shows "{en[0]}" ({zh[0]}). {text.en_sentence()} {text.zh_sentence()}

## Why it happens

{why}

## Fixes

{fixes}

## Prevention

{prevention}

## Related

{related_md}
"""
    return markdown, en, zh


def generate_kb(target: Path, n: int, seed: int, vocab: Vocabulary) -> Generated:
    """Write `n` articles into `target` (created empty)."""
    started = time.perf_counter()
    target.mkdir(parents=True)
    gen = Generated(target, [], [], [], 0.0, 0)
    for i in range(n):
        markdown, en, zh = make_article(seed, i, vocab)
        raw = markdown.encode("utf-8")
        aid = article_id(seed, i)
        (target / f"{aid}.md").write_bytes(raw)
        gen.ids.append(aid)
        gen.en_messages.append(en)
        gen.zh_messages.append(zh)
        gen.total_bytes += len(raw)
    gen.seconds = time.perf_counter() - started
    return gen


def check_sample(gen: Generated, scratch: Path) -> dict[str, int]:
    """`check_kb` on the first articles (a closed set: links only point back)."""
    sample = scratch / "sample-kb"
    shutil.rmtree(sample, ignore_errors=True)
    sample.mkdir(parents=True)
    for aid in gen.ids[:SAMPLE_CHECKED]:
        shutil.copy2(gen.kb_dir / f"{aid}.md", sample / f"{aid}.md")
    result = check_kb(sample)
    errors = result.errors
    if errors:
        for finding in errors[:10]:
            print(f"  generator bug: {finding}", file=sys.stderr)
        raise SystemExit("bench: generated articles fail `check_kb`; fix the generator")
    shutil.rmtree(sample, ignore_errors=True)
    return {"checked": len(result.articles), "errors": 0, "warnings": len(result.findings)}


# -- queries ------------------------------------------------------------------

LOG_MODULES = ("checkout.submit", "pay.gateway", "risk.engine", "cashier.render", "order.create",
               "card.bind", "sms.verify", "trade.query")


def log_line(rng: random.Random, when: datetime) -> str:
    """One line of a client log: timestamp, level, module, ids and amounts."""
    fields = [
        f"orderId={rng.randrange(10**18, 10**19)}",
        f"traceId={rng.getrandbits(96):024x}",
        f"amount={rng.randrange(100, 999999) / 100:.2f} CNY",
        f"card=6222****{rng.randrange(10000):04d}",
        f"ip=10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        f"status={rng.choice(['PENDING', 'FAILED', 'RETRY', 'TIMEOUT'])}",
        f"elapsed={rng.randrange(5, 900)}ms",
        f"session={rng.getrandbits(64):016x}",
    ]
    stamp = when.strftime("%Y-%m-%d %H:%M:%S") + f".{rng.randrange(1000):03d}"
    level = rng.choice(("INFO", "INFO", "DEBUG", "WARN", "ERROR"))
    return f"{stamp} [{level}] {rng.choice(LOG_MODULES)} " + " ".join(rng.sample(fields, 3))


def make_paste(text: TextMaker, message: str, target_bytes: int) -> str:
    """Mixed log text of about `target_bytes` with `message` somewhere inside."""
    rng = text.rng
    when = datetime(2026, rng.randint(1, 11), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
    insert_at = rng.randint(2, 5)
    lines: list[str] = []
    while len("\n".join(lines).encode("utf-8")) < target_bytes or len(lines) <= insert_at:
        when += timedelta(milliseconds=rng.randrange(50, 4000))
        if len(lines) == insert_at:
            lines.append(f"{when:%Y-%m-%d %H:%M:%S} [ERROR] pay.gateway resultCode=FAIL msg=\"{message}\"")
        elif rng.random() < 0.12:
            lines.append(f"user note: {text.en_sentence()}")
        else:
            lines.append(log_line(rng, when))
    return "\n".join(lines)


def make_queries(gen: Generated, vocab: Vocabulary, seed: int, count: int) -> dict[str, list[str]]:
    """`count` queries per kind: short words, a Chinese message, a long paste."""
    rng = random.Random(f"{seed}:queries:{len(gen.ids)}")
    text = TextMaker(vocab, rng)
    content = [w for w in vocab.en[:400] if w not in EN_FUNCTION]
    short = [" ".join(rng.sample(content[:250], rng.randint(2, 4))) for _ in range(count)]
    chinese = []
    for _ in range(count):
        message = rng.choice(gen.zh_messages[rng.randrange(len(gen.ids))])
        chinese.append(rng.choice(["", "支付宝 ", "淘宝 "]) + message)
    pastes = []
    for _ in range(count):
        article = rng.randrange(len(gen.ids))
        pool = gen.en_messages[article] + gen.zh_messages[article]
        pastes.append(make_paste(text, rng.choice(pool), rng.randint(1024, 2048)))
    return {"short": short, "chinese": chinese, "paste": pastes}


# -- processes ----------------------------------------------------------------------


@dataclass
class Proc:
    """A finished child process: wall time, its own peak RSS, output."""

    seconds: float
    maxrss_mb: float
    returncode: int
    stdout: str = ""
    stderr: str = ""
    tree_peak_mb: float | None = None
    timed_out: bool = False


def as_is_env() -> dict[str, str]:
    """The bench's environment without ERRKB_* settings that would redirect kb."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ERRKB_")}


#: The environment of every measured child process (see `configure_children`).
CHILD_ENV: dict[str, str] = {}


def configure_children(scratch: Path) -> None:
    """Children run like a normal install: bytecode is cached (in the scratch
    folder, so nothing is written into src/) even when this shell sets
    PYTHONDONTWRITEBYTECODE, which would recompile errkb, and only errkb (its
    dependencies ship .pyc files), at every start."""
    CHILD_ENV.clear()
    CHILD_ENV.update(as_is_env())
    CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")


def _maxrss_mb(kilobytes_or_bytes: int) -> float:
    """ru_maxrss is KiB on Linux, bytes on macOS."""
    return kilobytes_or_bytes / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _tree_rss_kb(pid: int, root: bool = True) -> int:
    """Sum of VmRSS over `pid` (unless not `root`) and its descendants (Linux /proc; 0 elsewhere)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            if root or current != pid:
                with open(f"/proc/{current}/status", encoding="ascii", errors="replace") as status:
                    total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (OSError, ValueError):
            continue
    return total


class TreeSampler:
    """Samples the RSS sum of a process tree every 50 ms in a thread (the
    build's Whoosh writer forks workers; ru_maxrss only sees the biggest one)."""

    def __init__(self, pid: int, root: bool = True) -> None:
        self.pid, self.root, self.peak_kb = pid, root, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid, self.root))
            self._stop.wait(0.05)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


def _kill_group(pgid: int, fired: list[bool]) -> None:
    """Kill the process group of a child we started (its own session)."""
    fired.append(True)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


#: Runs a command as its child and writes the child's own peak RSS to a file.
#: Linux charges a process, at exec, with the peak RSS of the memory it was
#: forked from: a child of this (large) benchmark process would report the
#: benchmark's own peak, not kb's. The launcher is a small interpreter (-S: no
#: site), so what its child inherits is a few MB, as from a shell.
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    try:\n"
    "        os.execv(sys.argv[2], sys.argv[2:])\n"
    "    finally:\n"
    "        os._exit(127)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "with open(sys.argv[1], 'w') as report:\n"
    "    report.write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status) % 256)\n"
)


def run(cmd: Sequence[str | Path], *, cwd: Path = ROOT, sample_tree: bool = False,
        capture: bool = True, timeout: float = SEARCH_PROCESS_TIMEOUT, env: dict[str, str] | None = None,
        own_rss: bool = False) -> Proc:
    """Run one process; its wall time and peak RSS come from `os.wait4`
    (with `own_rss`, the peak is the command's own, through `_LAUNCHER`: the
    wall time then includes the launcher's ~10 ms start). After `timeout`
    seconds the child's process group is killed."""
    args = [str(c) for c in cmd]
    rss_file = None
    if own_rss and hasattr(os, "fork"):
        handle, name = tempfile.mkstemp(prefix="errkb-bench-rss-")
        os.close(handle)
        rss_file = Path(name)
        args = [str(PYTHON), "-S", "-c", _LAUNCHER, str(rss_file), *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sink: Any = out if capture else subprocess.DEVNULL
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, env=env or CHILD_ENV or as_is_env(), stdin=subprocess.DEVNULL, start_new_session=True,
                                 stdout=sink, stderr=err if capture else subprocess.DEVNULL)
        fired: list[bool] = []
        killer = threading.Timer(timeout, _kill_group, (child.pid, fired))
        killer.start()
        sampler = (TreeSampler(child.pid, root=rss_file is None)
                   if sample_tree and sys.platform.startswith("linux") else None)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        killer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        tree = sampler.stop() if sampler else None
        maxrss = usage.ru_maxrss
        if rss_file is not None:
            with suppress(OSError, ValueError):
                maxrss = int(rss_file.read_text() or maxrss)
            rss_file.unlink(missing_ok=True)
        return Proc(seconds, _maxrss_mb(maxrss), child.returncode, _read(out, capture),
                    _read(err, capture), tree, bool(fired))


def _read(handle: Any, captured: bool) -> str:
    if not captured:
        return ""
    handle.seek(0)
    return str(handle.read().decode("utf-8", "replace"))


def kb_cmd(kb_dir: Path, index_dir: Path, *args: str) -> list[str | Path]:
    return [KB, "--kb-dir", kb_dir, "--index-dir", index_dir, *args]


def dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / (1024 * 1024)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


# -- statistics --------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# -- per-size measurements ------------------------------------------------------------


def measure_build(gen: Generated, index_dir: Path) -> dict[str, Any]:
    """Full build as its own process, then no-op, one-edit and one-delete updates."""
    n = len(gen.ids)
    full = run(kb_cmd(gen.kb_dir, index_dir, "index", "--full"), sample_tree=True, timeout=BUILD_TIMEOUT,
               own_rss=True)
    result: dict[str, Any] = {
        "articles": n,
        "build_ok": full.returncode == 0,
        "build_s": round(full.seconds, 3),
        "articles_per_s": round(n / full.seconds, 1),
        "build_rss_mb": round(full.maxrss_mb, 1),
        "build_tree_rss_mb": round(full.tree_peak_mb, 1) if full.tree_peak_mb is not None else None,
        "index_mb": round(dir_size_mb(index_dir), 2),
        "build_report": last_line(full.stderr),
    }
    if full.returncode != 0:
        print(f"  full build failed (exit {full.returncode}): {full.stderr[-800:]}", file=sys.stderr)
        return result
    noop = run(kb_cmd(gen.kb_dir, index_dir, "index"), timeout=BUILD_TIMEOUT)
    edited = gen.kb_dir / f"{gen.ids[n // 2]}.md"
    body = edited.read_text(encoding="utf-8")
    edited.write_text(body.replace("## Prevention\n\n- ", "## Prevention\n\n- Benchmark edit: check again. ", 1),
                      encoding="utf-8")
    edit = run(kb_cmd(gen.kb_dir, index_dir, "index"), timeout=BUILD_TIMEOUT)
    (gen.kb_dir / f"{gen.ids[-1]}.md").unlink()  # the newest article: nothing links to it
    delete = run(kb_cmd(gen.kb_dir, index_dir, "index"), timeout=BUILD_TIMEOUT)
    result.update({
        "noop_update_s": round(noop.seconds, 3),
        "edit_update_s": round(edit.seconds, 3),
        "edit_update_ok": edit.returncode == 0 and "1 updated" in edit.stderr,
        "edit_report": last_line(edit.stderr),
        "delete_update_s": round(delete.seconds, 3),
        "delete_update_ok": delete.returncode == 0 and "1 removed" in delete.stderr,
        "delete_report": last_line(delete.stderr),
    })
    return result


class QueryTimeout(Exception):
    """A search ran past QUERY_TIMEOUT."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Interrupt the code inside with QueryTimeout after `seconds` (SIGALRM)."""
    def _expire(signum: int, frame: Any) -> None:
        raise QueryTimeout

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Timings:
    """Seconds per query (a cut query counts as its time until interrupted)."""

    seconds: list[float]
    answered: int = 0
    cut: list[str] = field(default_factory=list)
    skipped: int = 0


def time_queries(kb: KnowledgeBase, queries: list[str], limit: float) -> Timings:
    """Time the search of each query on the open index (`run_search`, what
    `kb.search` runs after its staleness check, which is timed on its own);
    cut any running past `limit` seconds, and give up on the kind after a few cuts."""
    from errkb.search import run_search

    scorer = kb._scorer_for(kb.ensure_fresh())  # not public API: may go away
    out = Timings([])
    for number, text in enumerate(queries):
        if len(out.cut) >= MAX_CUT_PER_KIND:
            out.skipped = len(queries) - number
            break
        started = time.perf_counter()
        try:
            with deadline(limit):
                result = run_search(scorer, text, limit=5)
            out.answered += bool(result.hits)
        except QueryTimeout:
            out.cut.append(text)
        out.seconds.append(time.perf_counter() - started)
    return out


def measure_queries(kb_dir: Path, index_dir: Path, queries: dict[str, list[str]], limit: float) -> dict[str, Any]:
    """In-process latency per kind after a warm-up, plus the per-query
    freshness check (scan + fingerprint + open) on its own."""
    kb = KnowledgeBase(kb_dir, index_dir)
    warm = [q for kind in queries.values() for q in kind[:WARMUP_QUERIES // len(queries) + 1]]
    time_queries(kb, warm, limit)
    out: dict[str, Any] = {"cut_after_s": limit}
    for kind, texts in queries.items():
        t = time_queries(kb, texts, limit)
        out[kind] = {"n": len(t.seconds), "p50_ms": ms(percentile(t.seconds, 50)),
                     "p95_ms": ms(percentile(t.seconds, 95)), "max_ms": ms(max(t.seconds)),
                     "answered": t.answered, "cut": len(t.cut), "skipped_after_cuts": t.skipped,
                     "cut_examples": [q[:200] for q in t.cut[:3]],
                     "avg_query_bytes": round(statistics.mean(len(q.encode()) for q in texts))}
    fresh = []
    check: Callable[[], Any] | None = getattr(kb, "ensure_fresh", None)  # not public API: may go away
    for _ in range(20):
        if check is None:
            break
        started = time.perf_counter()
        check()
        fresh.append(time.perf_counter() - started)
    out["freshness_check_p50_ms"] = ms(statistics.median(fresh)) if fresh else None
    if kb.notes:
        out["notes"] = list(kb.notes)
    return out


def measure_search_process(kb_dir: Path, index_dir: Path, queries: dict[str, list[str]],
                           limit: float) -> dict[str, Any]:
    """Peak RSS and wall time of whole `kb search --json` processes (one per kind)."""
    runs = {kind: run(kb_cmd(kb_dir, index_dir, "search", "--json", texts[0]), timeout=limit, own_rss=True)
            for kind, texts in queries.items()}
    bad = {k: "timeout" if p.timed_out else p.returncode for k, p in runs.items()
           if p.timed_out or p.returncode not in (0, 1)}
    return {
        "search_rss_mb": round(max(p.maxrss_mb for p in runs.values()), 1),
        "search_wall_s": {k: round(p.seconds, 3) for k, p in runs.items()},
        "search_errors": bad,
    }


def bench_size(n: int, scratch: Path, vocab: Vocabulary, seed: int, queries_per_kind: int) -> dict[str, Any]:
    """Everything measured on one synthetic knowledge base of `n` articles."""
    print(f"[{n:,} articles] generating ...", flush=True)
    gen = generate_kb(scratch / f"kb-{n}", n, seed, vocab)
    sample = check_sample(gen, scratch)
    print(f"[{n:,} articles] {gen.seconds:.1f}s, {gen.total_bytes / 2**20:.1f} MB, "
          f"avg {gen.avg_kb:.2f} KB/article; sample check: {sample['checked']} articles, 0 errors, "
          f"{sample['warnings']} warnings. Building ...", flush=True)
    queries = make_queries(gen, vocab, seed, queries_per_kind)
    index_dir = scratch / f"index-{n}"
    result: dict[str, Any] = {"generate_s": round(gen.seconds, 2), "avg_article_kb": round(gen.avg_kb, 2),
                              "kb_mb": round(gen.total_bytes / 2**20, 2), "sample_check": sample}
    result.update(measure_build(gen, index_dir))
    print(f"[{n:,} articles] full build {result['build_s']}s; querying ...", flush=True)
    if result["build_ok"]:
        result["queries"] = measure_queries(gen.kb_dir, index_dir, queries,
                                            max(QUERY_TIMEOUT, QUERY_TIMEOUT_PER_ARTICLE * n))
        result.update(measure_search_process(gen.kb_dir, index_dir, queries,
                                             max(SEARCH_PROCESS_TIMEOUT, SEARCH_PROCESS_TIMEOUT_PER_ARTICLE * n)))
    shutil.rmtree(gen.kb_dir, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    return result


# -- end to end on the real articles ---------------------------------------------------

E2E_ENGLISH = "SMS verification code failed when adding my card to Alipay"
E2E_CHINESE = "支付宝 身份信息过期"
E2E_PASTE_MESSAGE = "短信验证失败，请确认银行预留手机号"


def e2e_cases(index_dir: Path, seed: int, vocab: Vocabulary) -> list[tuple[str, list[str | Path], str]]:
    """(name, kb command, floor code) for each end-to-end comparison."""
    paste = make_paste(TextMaker(vocab, random.Random(f"{seed}:e2e-paste")), E2E_PASTE_MESSAGE, 2048)
    search: list[str | Path] = [KB, "--index-dir", index_dir, "search", "--json"]
    return [
        ("search English", [*search, E2E_ENGLISH], FLOOR_SEARCH),
        ("search Chinese", [*search, E2E_CHINESE], FLOOR_SEARCH),
        (f"search {len(paste.encode()) / 1024:.1f} KB paste", [*search, paste], FLOOR_SEARCH),
        ("kb --help", [KB, "--help"], FLOOR_CLICK),
        ("kb search --help", [KB, "search", "--help"], FLOOR_CLICK),
        ("kb --version", [KB, "--version"], FLOOR_CLICK),
    ]


def interleaved(cases: list[tuple[str, list[str | Path], list[str | Path], dict[str, str] | None]],
                runs: int) -> dict[str, tuple[list[float], list[float], int]]:
    """(floor times, kb times, kb exit code) per case: after two warm-ups of
    each command, `runs` rounds in which every case runs its floor and its kb
    command (ABBA order from round to round, the cases in turn), so that a
    burst of load on this shared machine falls on all cases alike rather
    than on whichever one was being timed."""
    codes: dict[str, int] = {}
    for _ in range(2):
        for name, kb, floor, env in cases:
            run(floor, capture=False, env=env)
            codes[name] = run(kb, env=env).returncode
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _, _, _ in cases}
    for i in range(runs):
        order = cases[i % len(cases):] + cases[:i % len(cases)]
        for name, kb, floor, env in order:
            pair = [(floor, times[name][0]), (kb, times[name][1])]
            for cmd, sink in pair if i % 2 == 0 else reversed(pair):
                sink.append(run(cmd, capture=False, env=env).seconds)
    return {name: (floors, kbs, codes[name]) for name, (floors, kbs) in times.items()}


def bench_e2e(scratch: Path, runs: int, seed: int, vocab: Vocabulary) -> dict[str, Any]:
    """Whole `kb` processes on kb/ against the import floor, same interpreter."""
    index_dir = scratch / "real-index"
    built = run([KB, "--kb-dir", REAL_KB, "--index-dir", index_dir, "index"])
    out: dict[str, Any] = {"articles_report": last_line(built.stderr), "runs": runs, "cases": {}}
    cases = e2e_cases(index_dir, seed, vocab)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):  # show what this shell's setting costs
        cases.append((f"{cases[1][0]} (no .pyc)", cases[1][1], FLOOR_SEARCH))
    print(f"[end to end] {len(cases)} commands, {runs} interleaved rounds ...", flush=True)
    measured = interleaved([(name, cmd, [PYTHON, "-c", floor_code],
                             as_is_env() if name.endswith("(no .pyc)") else None)
                            for name, cmd, floor_code in cases], runs)
    for name, _, floor_code in cases:
        floor_times, kb_times, code = measured[name]
        floor_med, kb_med = statistics.median(floor_times), statistics.median(kb_times)
        out["cases"][name] = {
            "floor": floor_code, "floor_median_ms": ms(floor_med), "kb_median_ms": ms(kb_med),
            "ratio": round(kb_med / floor_med, 3), "kb_exit": code, "informational": name.endswith("(no .pyc)"),
            "floor_ms": [ms(t) for t in floor_times], "kb_ms": [ms(t) for t in kb_times],
        }
    # The cases of one floor share it: each case's ratio is taken against the
    # median of all their floor runs (the same command).
    for floor_code in {c["floor"] for c in out["cases"].values()}:
        shared = [c for c in out["cases"].values() if c["floor"] == floor_code and not c["informational"]]
        pooled = statistics.median(t for c in shared for t in c["floor_ms"])
        for case in shared:
            case["own_floor_median_ms"] = case["floor_median_ms"]
            case["floor_median_ms"] = round(pooled, 1)
            case["ratio"] = round(case["kb_median_ms"] / pooled, 3)
    return out


def count_instructions(cmd: Sequence[str | Path]) -> int | None:
    """Instructions one run of `cmd` executes, counted by valgrind's
    callgrind (None without valgrind). Unlike wall time they do not move
    with the machine's load: the same code gives the same count, within a
    few thousandths, so two versions compare in one run each."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    env = {**(CHILD_ENV or as_is_env()), "PYTHONHASHSEED": "0"}  # the timed runs' bytecode cache
    done = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *map(str, cmd)],
                          capture_output=True, text=True, env=env, timeout=600)
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    return None


def bench_instructions(scratch: Path, seed: int, vocab: Vocabulary) -> dict[str, Any]:
    """The end-to-end search commands and their floor, in instructions
    (informational: the goals are on wall time)."""
    index_dir = scratch / "real-index"
    cases = [(name, cmd, floor) for name, cmd, floor in e2e_cases(index_dir, seed, vocab) if name.startswith("search")]
    print(f"[instructions] {len(cases) + 1} commands under callgrind (~10 s each) ...", flush=True)
    for cmd in ([PYTHON, "-c", FLOOR_SEARCH], cases[0][1]):
        run(cmd)  # bytecode cached, as for the timed runs
    floor = count_instructions([PYTHON, "-c", FLOOR_SEARCH])
    out: dict[str, Any] = {"floor": floor, "cases": {}}
    for name, cmd, _ in cases:
        count = count_instructions(cmd)
        out["cases"][name] = {"instructions": count,
                              "ratio": round(count / floor, 3) if count and floor else None}
    return out


# -- goals and report ----------------------------------------------------------------------


@dataclass
class Goal:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str


def goal(name: str, value: float | None, limit: float, detail: Callable[[float], str],
         at_most: bool = True) -> Goal:
    """A goal on one number; SKIP when it was not measured."""
    if value is None:
        return Goal(name, "SKIP", "not measured in this run")
    ok = value <= limit if at_most else value >= limit
    return Goal(name, "PASS" if ok else "FAIL", detail(value))


def evaluate_goals(sizes: dict[str, Any], e2e: dict[str, Any]) -> list[Goal]:
    """The project's performance goals against what was measured."""
    goals: list[Goal] = []
    cases = e2e.get("cases", {})
    for name, case in cases.items():
        if case.get("informational"):
            continue
        if name.startswith("search"):
            detail = f"{case['ratio']:.2f}x ({case['kb_median_ms']:.0f} vs {case['floor_median_ms']:.0f} ms)"
            status = "PASS" if case["ratio"] <= SEARCH_FLOOR_RATIO else "FAIL"
            goals.append(Goal(f"end to end `{name}` <= {SEARCH_FLOOR_RATIO}x floor", status, detail))
        else:  # Click's own help and version: an absolute bound
            goals.append(goal(f"end to end `{name}` <= {CLICK_COMMAND_MS:.0f} ms", case["kb_median_ms"],
                              CLICK_COMMAND_MS, lambda v: f"{v:.0f} ms"))
    ten = sizes.get("10000", {})
    queries = ten.get("queries", {})
    for kind in ("short", "chinese", "paste"):
        q = queries.get(kind, {})
        cut = f"; {q['cut']} of {q['n']} cut at {queries['cut_after_s']:.0f} s" if q.get("cut") else ""
        verdict = goal(f"10,000: {kind} query p95 <= 50 ms", q.get("p95_ms"), 50, lambda v: f"{v:.1f} ms")
        if cut:
            verdict = Goal(verdict.name, "FAIL", verdict.detail + cut)
        goals.append(verdict)
    goals.append(goal(f"10,000: full build >= {BUILD_ARTICLES_PER_S:,} articles/s (one process)",
                      ten.get("articles_per_s"), BUILD_ARTICLES_PER_S,
                      lambda v: f"{v:,.0f} articles/s", at_most=False))
    edit = ten.get("edit_update_s") if ten.get("edit_update_ok", True) else float("inf")
    goals.append(goal("10,000: `kb index` after one edit <= 1 s", edit, 1.0, lambda v: f"{v:.2f} s"))
    goals.append(goal("10,000: search process peak RSS <= 150 MB", ten.get("search_rss_mb"), 150,
                      lambda v: f"{v:.0f} MB" + (f" (failed runs: {ten['search_errors']})"
                                                 if ten.get("search_errors") else "")))
    huge = sizes.get(str(HUGE_SIZE))
    if huge is None:
        goals.append(Goal("100,000: builds and answers", "SKIP", "run with --huge"))
    else:
        answered = sum(huge.get("queries", {}).get(k, {}).get("answered", 0) for k in ("short", "chinese", "paste"))
        ok = huge.get("build_ok") and answered > 0 and not huge.get("search_errors")
        goals.append(Goal("100,000: builds and answers", "PASS" if ok else "FAIL",
                          f"build {huge.get('build_s')} s, {answered} queries answered"))
    return goals


def machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "implementation": platform.python_implementation(),
            "load_avg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def code_state() -> dict[str, Any]:
    """Which errkb was measured: a digest of src/ and its newest file time."""
    files = sorted((ROOT / "src" / "errkb").rglob("*.py"))
    digest = hashlib.sha1()
    for path in files:
        digest.update(path.read_bytes())
    newest = max((f.stat().st_mtime for f in files), default=0.0)
    return {"src_sha1": digest.hexdigest()[:12], "newest_src_change": datetime.fromtimestamp(newest).isoformat(
        timespec="seconds"), "errkb_version": errkb_version}


def fmt_load(load: list[float] | None) -> str:
    return "/".join(f"{x:.1f}" for x in load) if load else "?"


def fmt(value: Any, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def print_report(report: dict[str, Any], goals: list[Goal]) -> None:
    """The tables, the caveat and the goals."""
    m = report["machine"]
    print(f"\nerrkb benchmark: {m['cpu_count']} CPUs, {m['platform']}, {m['implementation']} {m['python']}")
    code = report["code"]
    print(f"errkb {code['errkb_version']}, src digest {code['src_sha1']} (newest change {code['newest_src_change']})")
    print(f"Noise: a shared small machine ({m['cpu_count']} cores here, load {fmt_load(m['load_avg'])} at start); "
          "process timings are medians of alternating runs, build times single runs: differences under ~10% "
          "are noise.\nChild processes run with bytecode caching on (PYTHONPYCACHEPREFIX in the scratch folder), "
          "like a normal install.\n")
    sizes = report["sizes"]
    if sizes:
        print("Synthetic knowledge bases (seeded; peak RSS = ru_maxrss of the largest process, "
              "tree = sampled sum over the build's processes)")
        head = (f"{'articles':>8} {'KB/art':>6} {'build s':>8} {'art/s':>7} {'RSS MB':>7} {'tree MB':>7} "
                f"{'index MB':>8} {'no-op s':>7} {'edit s':>7} {'delete s':>8} {'search RSS':>10} {'search s':>8}")
        print(head)
        for n, s in sizes.items():
            print(f"{int(n):>8,} {s['avg_article_kb']:>6.2f} {s['build_s']:>8.2f} {s['articles_per_s']:>7,.0f} "
                  f"{s['build_rss_mb']:>7.0f} {fmt(s.get('build_tree_rss_mb'), '.0f'):>7} {s['index_mb']:>8.1f} "
                  f"{fmt(s.get('noop_update_s'), '.2f'):>7} {fmt(s.get('edit_update_s'), '.2f'):>7} "
                  f"{fmt(s.get('delete_update_s'), '.2f'):>8} {fmt(s.get('search_rss_mb'), '.0f'):>10} "
                  f"{fmt(s.get('search_wall_s', {}).get('short'), '.2f'):>8}")
        print(f"\nQuery latency in process (search.run_search on the open index, ms, after {WARMUP_QUERIES} warm-up "
              "queries; 'fresh' = the staleness check (a stat per article) kb.search adds before each search;\n"
              f"n, answered, cut: per kind short/chinese/paste; a query running past {QUERY_TIMEOUT:.0f} s "
              f"(0.5 ms per article above 10,000)\nis cut and counts at that time; after {MAX_CUT_PER_KIND} cuts "
              "the rest of that kind is skipped)")
        print(f"{'articles':>8} {'n':>9} {'short p50':>9} {'p95':>6} {'chinese p50':>11} {'p95':>6} "
              f"{'paste p50':>9} {'p95':>6} {'fresh p50':>9} {'answered':>11} {'cut':>8}")
        for n, s in sizes.items():
            q = s.get("queries")
            if not q:
                continue
            answered = "/".join(str(q[k]["answered"]) for k in ("short", "chinese", "paste"))
            cut = "/".join(str(q[k]["cut"]) for k in ("short", "chinese", "paste"))
            ran = "/".join(str(q[k]["n"]) for k in ("short", "chinese", "paste"))
            print(f"{int(n):>8,} {ran:>9} {q['short']['p50_ms']:>9.1f} {q['short']['p95_ms']:>6.1f} "
                  f"{q['chinese']['p50_ms']:>11.1f} {q['chinese']['p95_ms']:>6.1f} {q['paste']['p50_ms']:>9.1f} "
                  f"{q['paste']['p95_ms']:>6.1f} {fmt(q['freshness_check_p50_ms'], '.1f'):>9} {answered:>11} {cut:>8}")
    e2e = report.get("e2e", {})
    if e2e.get("cases"):
        print(f"\nEnd to end on kb/ ({e2e['articles_report']}): medians of {e2e['runs']} alternating runs")
        print(f"{'command':<24} {'floor ms':>8} {'kb ms':>7} {'ratio':>6}  floor")
        for name, c in e2e["cases"].items():
            print(f"{name:<24} {c['floor_median_ms']:>8.1f} {c['kb_median_ms']:>7.1f} {c['ratio']:>5.2f}x  "
                  f"python -c \"{c['floor']}\"")
    counted = report.get("instructions")
    if counted:
        print(f"\nThe same searches in instructions (callgrind, once each; floor {fmt(counted['floor'], ',')}):")
        for name, c in counted["cases"].items():
            print(f"{name:<24} {fmt(c['instructions'], ','):>15} {fmt(c['ratio'], '.3f'):>6}x")
    print("\nGoals")
    for g in goals:
        print(f"  {g.status:<4}  {g.name}: {g.detail}")
    counted = [g for g in goals if g.status != "SKIP"]
    print(f"\n{sum(g.status == 'PASS' for g in counted)}/{len(counted)} goals pass"
          f"{f' ({len(goals) - len(counted)} skipped)' if len(counted) < len(goals) else ''}")


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated article counts (default %(default)s)")
    parser.add_argument("--huge", action="store_true", help=f"also {HUGE_SIZE:,} articles (generating and building it takes minutes)")
    parser.add_argument("--runs", type=int, default=15, help="end-to-end runs per command (default %(default)s)")
    parser.add_argument("--queries", type=int, default=QUERIES_PER_KIND, help="queries per kind (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help=f"smoke test: {QUICK_SIZE} articles, 5 runs")
    parser.add_argument("--instructions", action="store_true",
                        help="also count the end-to-end searches' instructions against the floor's "
                             "(valgrind; stable under load, informational)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.size_list = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.quick:
        args.size_list, args.runs = [QUICK_SIZE], 5
    if args.huge and HUGE_SIZE not in args.size_list:
        args.size_list.append(HUGE_SIZE)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not KB.exists():
        print(f"bench: {KB} not found; run `make bench` (it installs the package first)", file=sys.stderr)
        return 2
    vocab = Vocabulary.make(args.seed)
    report: dict[str, Any] = {"machine": machine(), "code": code_state(), "config": {
        "sizes": args.size_list, "runs": args.runs, "queries_per_kind": args.queries, "seed": args.seed,
        "quick": args.quick, "kb": str(KB), "python": str(PYTHON)}, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="errkb-bench-") as tmp:
        scratch = Path(tmp)
        configure_children(scratch)
        for n in args.size_list:
            report["sizes"][str(n)] = bench_size(n, scratch, vocab, args.seed, args.queries)
        report["e2e"] = bench_e2e(scratch, args.runs, args.seed, vocab)
        if args.instructions:
            report["instructions"] = bench_instructions(scratch, args.seed, vocab)
    goals = evaluate_goals(report["sizes"], report["e2e"])
    report["goals"] = [asdict(g) for g in goals]
    counted = [g for g in goals if g.status != "SKIP"]
    report["summary"] = f"{sum(g.status == 'PASS' for g in counted)}/{len(counted)} goals pass"
    print_report(report, goals)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"numbers written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
