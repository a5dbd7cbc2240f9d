#!/usr/bin/env python3
"""Build cedict.tsv (English <TAB> simplified Chinese technology terms) from CC-CEDICT.

Usage:
    python3 build_cedict.py PATH/TO/cedict_ts.u8 [-o OUTPUT.tsv]
                            [--user-dict PATH] [--demo-dir PATH]

PATH may also be the gzipped export (cedict_1_0_ts_utf-8_mdbg.txt.gz).
Without -o the TSV is written to standard output. Python 3 standard library
only; the output is sorted and fully determined by the inputs (the CEDICT
file, seeds/search/user_dict.txt and seeds/demo/*.jsonl).

Selection, per CEDICT entry "trad simp [pinyin] /def1/def2/":
  * headword: the simplified form is 2-12 characters (CJK, optionally ASCII
    letters and digits), not in HEADWORD_STOP (everyday words), not Taiwan
    usage (TAIWAN_MORPHEMES);
  * definitions: each /-definition is split on ';' into parts; a part is
    cleaned (trailing chemical formula, parenthetical notes and Chinese
    cross-references removed, leading "to"/"a"/"an"/"the" dropped,
    lowercased) and kept only if it is a term: ASCII letters, digits, spaces
    and hyphens, 1-4 words, no explanation words ("sb", "sth", "kind of" ...),
    not starting "see", "variant of", "CL:", "surname", "used in" ...;
    definitions labelled (Tw), (fig.), (lit.), (idiom), (slang) ... are
    skipped; "abbr. for X" is replaced by X's English expansion when the
    definition gives one, else by X's own CEDICT definitions;
  * technical: a part is kept if its definition carries a domain label
    (DOMAIN_LABELS: chemistry, physics, medicine, computing ...), or the
    headword is a project domain word (user_dict.txt, first column); otherwise
    the entry must not be a proper name (capitalised pinyin), must have no
    idiomatic/literary/figurative sense (GENERAL_ENTRY_LABELS), the part must
    not be a verb ("to ..."), and then either the part contains a technical
    stem or word (TECH_STEMS, TECH_WORDS, TECH_WORDS_MULTI), or the headword
    occurs in the demo catalogue (titles, summaries, descriptions, details,
    keywords) and is a catalogue keyword or at least 3 characters long.
"""

import argparse
import glob
import gzip
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_USER_DICT = os.path.join(REPO, "seeds", "search", "user_dict.txt")
DEFAULT_DEMO_DIR = os.path.join(REPO, "seeds", "demo")

# Domain labels (lowercase, without parentheses) that make a definition technical.
DOMAIN_LABELS = {
    "chemistry", "chem.", "biochemistry", "physics", "particle physics",
    "nuclear physics", "optics", "medicine", "medical", "med.", "biology",
    "molecular biology", "genetics", "computing", "computer", "computer science",
    "electricity", "electrical", "elec.", "electronics", "engineering",
    "math.", "math", "mathematics", "geometry", "statistics", "mechanics",
    "geology", "agriculture", "pharm.", "pharmacology", "telecommunications",
    "telecom", "astronomy", "botany", "zoology", "anatomy", "physiology",
    "metallurgy", "materials", "materials science", "internet", "network",
    "networking", "software", "mining", "meteorology", "soil taxonomy",
    "textiles", "aviation", "aerospace", "architecture", "construction",
    "petroleum", "oil industry", "chemical engineering", "biotechnology",
    "pathology", "immunology", "virology", "microbiology", "neuroscience",
    "ecology", "environment", "hydrology", "oceanography", "geophysics",
    "crystallography", "mineralogy", "surveying", "cartography", "printing",
    "machinery", "mechanical engineering", "automotive", "railway", "photography",
    "acoustics", "thermodynamics", "electromagnetism", "cryptography",
    "programming", "semiconductors", "dentistry", "surgery", "radiology",
    "taxonomy", "entomology", "ornithology", "forestry", "horticulture",
    "paleontology", "biomedicine", "nutrition", "robotics",
}

# Labels whose definition is never taken (register, figurative, regional, etc.).
REJECT_LABELS = {
    "tw", "fig.", "lit.", "lit. and fig.", "old", "archaic", "arch.", "dialect",
    "slang", "internet slang", "idiom", "literary", "coll.", "colloquial",
    "cantonese", "derog.", "vulgar", "euphemism", "jocular", "honorific",
    "polite", "humble", "classical", "onom.", "bound form", "bird species of china",
    "in former times", "in ancient times", "in imperial china", "hong kong",
    "buddhism", "taoism", "mythology", "chinese opera", "proverb", "name",
    "surname", "japanese surname", "person name", "loanword from japanese",
    "wu dialect", "shanghainese", "hokkien", "amoy", "taiwan", "grape type",
    "dog breed", "star sign", "constellation", "constellation and sign of the zodiac",
    "formerly in kham province of tibet", "video game series", "harry potter",
}

# An entry having a sense with one of these labels is general vocabulary.
GENERAL_ENTRY_LABELS = {
    "idiom", "fig.", "lit.", "lit. and fig.", "literary", "classical", "archaic",
    "arch.", "old", "dialect", "slang", "internet slang", "coll.", "colloquial",
    "derog.", "vulgar", "euphemism", "jocular", "honorific", "polite", "humble",
    "proverb", "buddhism", "taoism", "chinese opera", "onom.",
}

# Definitions starting with these (after removing the leading label) are skipped.
REJECT_PREFIXES = (
    "see ", "see also", "variant of", "old variant", "cl:", "surname",
    "used in", "lit.", "fig.", "also written", "also pr.", "also called",
    "also known as", "abbr. to", "erhua variant", "japanese variant",
    "same as", "taiwan pr.", "pr.", "unofficial variant", "archaic variant",
    "(tw)", "radical", "kangxi radical", "component in", "classifier",
    "old name", "former name", "old term", "formerly", "ancient", "name of",
    "one of the", "nickname", "translit", "transliteration", "japanese",
    "in former times", "sometimes used", "also ", "cf. ", "cf ",
)

# Technical stems: an English term containing a word (split on spaces and
# hyphens) that starts with one of these is technical.
TECH_STEMS = (
    "absorbent", "absorption", "accelerat", "acetyl", "acetic", "acoust",
    "actuator", "adhesive", "aerodynam", "aerosol", "aerospace", "aircraft",
    "airplane", "aldehyde", "algae", "algebra", "algorithm", "alkali", "alkane",
    "alkene", "alkyl", "alloy", "alumin", "amino", "ammonia", "ammonium",
    "amplif", "anaesthe", "anesthe", "angiogra", "anion", "anode", "antenna",
    "antibiot", "antibod", "antigen", "antisept", "antivir", "aquacultur",
    "arsenic", "asphalt", "astronaut", "asymptot", "atom", "attenuat",
    "automat", "automobil", "bacteri", "bandwidth", "barometer", "battery",
    "batteries", "benzene", "bioche", "biodegrad", "biofuel", "bioinforma",
    "biolog", "biomass", "biomed", "biopsy", "biosens", "biotech", "bitumen",
    "blockchain", "boiler", "bromid", "bromine", "broadband", "browser",
    "calcium", "calibrat", "carbide", "carbohydrat", "carbon", "carburet",
    "carcinog", "cardiac", "cardio", "catalys", "catalyt", "cathode", "cation",
    "cellulos", "cement", "centrifug", "ceramic", "chassis", "chemical",
    "chemist", "chipset", "chlor", "chromat", "chromium", "chromosom", "clone",
    "cloning", "coating", "cobalt", "coefficient", "combust",
    "composite", "compressor", "compression", "computer", "computing",
    "concrete", "condenser", "condensat", "conductiv", "conductance",
    "conduction", "conveyor", "coolant", "copolymer", "copper", "corros",
    "cryptograph", "crystal", "cyber", "cylinder", "database", "decibel",
    "decoder", "decoding", "dehydrat", "detector", "detection", "detonat",
    "diagnos", "dielectric", "diesel", "diffract", "diffusion", "digital",
    "diode", "disinfect", "distillat", "distiller", "drilling", "drone",
    "dynamo", "dynamics", "ecolog", "elastic", "electr", "electro", "embryo",
    "emission", "emulsi", "encoder", "encoding", "encrypt", "endoscop",
    "engine", "enzyme", "epidem", "epoxy", "equation", "ester", "ethanol",
    "ether", "ethyl", "ethylene", "excavator", "explosive", "extrusion",
    "fermentat", "ferro", "fertiliz", "fiber", "fibre", "filament", "filter",
    "firewall", "firmware", "fluor", "forging", "fossil", "fracture",
    "frequenc", "friction", "fungicid", "fungus", "fungi", "galvan", "gamma",
    "gasket", "gasoline", "gearbox", "genetic", "genom", "genotyp", "geolog",
    "geotherm", "germanium", "glucose", "glycer", "gradient", "granit",
    "graphene", "graphite", "gravitat", "grinder", "gyroscop", "halogen",
    "hardware", "helium", "herbicid", "hormone", "hydraul", "hydrocarbon",
    "hydrogen", "hydrolys", "hydroxid", "immun", "impedance", "implant",
    "incinerat", "inductan", "inductor", "inertia", "infection", "infectious",
    "infrared", "inhibitor", "insecticid", "insulat", "interferen",
    "interferom", "internet", "iodine", "ionic", "ioniz", "iridium", "irrigat",
    "isotop", "kinase", "kinetic", "laser", "lathe", "lidar", "ligand",
    "lithium", "lithograph", "locomotiv", "logarithm", "lubric", "machine",
    "machining", "magnesium", "magnet", "malware", "manganese", "manufactur",
    "mechanical", "mechanics", "mechanism", "membrane", "mercury", "metabol",
    "metal", "methane", "methanol", "methyl", "microb", "microchip",
    "microcontroll", "microscop", "microwave", "mineral", "modem", "modul",
    "molecul", "molybdenum", "monitoring", "motor", "mutation", "nano",
    "neural", "neuron", "neutron", "nickel", "nitr", "nozzle", "nuclear",
    "nucleic", "nucleotid", "nutrient", "optic", "orbit", "organic",
    "oscillat", "oxid", "oxygen", "ozone", "pathogen", "peptide", "pesticid",
    "petrochem", "petroleum", "pharmac", "phosph", "photoelectr", "photon",
    "photovolt", "photosynth", "photolith", "photocatal", "photodetect",
    "photosensit", "physics", "pigment", "pipeline", "piston", "pixel",
    "plasma", "plastic", "platinum", "pneumat", "polariz", "pollut",
    "polyester", "polyeth", "polym", "polynomial", "potassium", "precipitat",
    "processor", "propell", "propuls", "protein", "quantum", "radar", "radiat",
    "radio", "reactor", "receptor", "rectifier", "refiner", "refining",
    "refrigera", "resin", "resistor", "resistiv", "resonance", "resonator", "robot", "rotor",
    "router", "rubber", "satellit", "scanner", "semiconduct", "sensor",
    "server", "servo", "silic", "simulat", "sodium", "software", "solar",
    "solder", "solvent", "sonar", "spectr", "steel", "sterili", "sulf",
    "sulph", "superconduct", "surgery", "surgical", "switchboard", "synthes",
    "synthetic", "telecom", "telescop", "thermo", "thermal", "titanium",
    "tissue", "topolog", "torque", "toxin", "transceiv", "transformer",
    "transgen", "transistor", "transmission", "transmitter", "tumor", "tumour",
    "turbin", "ultrason", "ultraviolet", "uranium", "vaccin", "vacuum", "valve",
    "velocity", "virus", "viral", "viscos", "vitamin", "voltag", "weld",
    "wavelength", "wireless", "zinc", "zirconium",
)

# Whole words that make a term technical.
TECH_WORDS = {
    "ai", "api", "cpu", "gpu", "led", "lcd", "usb", "gps", "rna", "dna", "pcb",
    "gas", "ore", "ores", "gene", "genes", "byte", "bytes", "codec", "ion",
    "ions", "acid", "acids", "axis", "axle", "axles", "tensor",
    "lathe", "kiln", "furnace", "nozzle", "pixel", "modem", "router", "kernel",
    "compiler", "debug", "debugging", "cache", "socket", "algorithm",
    "software", "hardware", "firmware", "analog", "exhaust", "pump", "pumps",
    "pumping", "microchip", "circuit", "circuits", "circuitry", "conductor",
    "semiconductor", "capacitor", "capacitance", "data",
}

# Ambiguous words: technical only inside a term of two or more words
# ("ball bearing", not "bearing" = demeanour).
TECH_WORDS_MULTI = {
    "bearing", "bearings", "beam", "beams", "cable", "cables", "cell", "cells",
    "chip", "chips", "code", "codes", "crane", "wafer", "wafers",
    "drill", "drills", "element", "elements", "fabric", "fabrics", "fluid",
    "fluids", "formula", "fuse", "gauge", "gear", "gears", "graph", "grid",
    "lens", "lenses", "matrix", "memory", "mold", "mould", "network",
    "networks", "node", "nodes", "protocol", "resistance", "signal", "signals",
    "vector", "vectors", "cluster", "module", "modules", "storage", "sensor",
}

# Terms containing one of these words are military, social or everyday senses.
NON_TECH_WORDS = {
    "enemy", "spy", "troops", "army", "soldier", "soldiers", "sushi", "couple",
    "afraid", "wedding", "funeral", "lover", "cigarette", "liquor", "wine",
    "prison", "toy", "toys", "game", "cooking", "dish", "bomb", "bombs",
    "grenade", "with", "by", "itself", "oneself", "arms", "sugar", "arts",
}

# A term may not start or end with one of these.
FUNCTION_WORDS = {
    "of", "to", "with", "for", "by", "from", "in", "on", "at", "into", "onto",
    "about", "above", "below", "over", "under", "as", "and", "itself",
    "oneself", "seems", "very", "not", "no", "some", "any", "all", "every",
    "more", "less", "most", "least", "such", "be", "being",
}

# English terms never kept (wrong sense for this domain).
ENGLISH_TERM_STOP = {
    "assault and battery", "bargaining chip", "blue chip", "blue chip stock",
    "red chip stocks", "potato chips", "fried potato chips", "chocolate chip",
    "gaming chip", "great bear", "plough", "big dipper", "carbon copy",
    "code of conduct", "class monitor", "monitor lizards", "political elements",
    "human flesh search engine", "internet celebrity", "internet addict",
    "biological parents", "android", "other man", "other woman", "mascot",
    "majority", "overwhelming majority", "one third", "physical culture",
    "conveyor belt sushi", "time machine", "in the pipeline", "afraid to die",
    "fish and chips", "motorcycle taxi", "anonymous state-sponsored internet commentator",
}

# Everyday headwords that occur in the demo catalogue or carry a technical-looking
# English word but are general vocabulary.
HEADWORD_STOP = set("""
一个 一些 一样 一次 一种 一起 一般 一直 上面 下面 不是 不同 不断 不能 专门 世界 两个 中国 中心 为了 主要 之后 之间 也是 于是 人员
人们 人类 今年 以上 以下 以及 以后 以来 以前 作为 使用 信息 保持 公司 具有 出现 利用 单位 发展 同时 可以 可能 合作 因为 地区 城市
基本 大学 如果 学校 完成 实现 工作 已经 开始 开展 很多 情况 成为 我们 所以 所有 技术 提供 提高 支持 方面 方式 时间 服务 期间 根据
此外 每个 没有 特别 现在 生产 由于 目前 直接 相关 研究 社会 科学 经过 能力 自己 行业 要求 设计 进行 过程 这些 这个 通过 部分 重要
问题 需要 项目 非常 面向 领域 企业 国家 地方 政府 市场 产品 价格 经济 建设 管理 系统 方法 结果 成果 水平 单元 一体 不过 两者 他们
她们 它们 什么 为此 之一 人才 今后 仍然 代表 以便 传统 例如 依托 保证 保障 其中 其他 具备 准确 减少 分别 包括 协议 只有 可靠 合同
同样 后续 周期 呈现 告诉 团队 因此 地点 培训 增加 处于 大量 大约 如何 实际 客户 对于 尤其 就是 工程 已有 应用 开发 引进 形成 影响
必须 快速 总体 意见 成本 成熟 才能 扩大 承担 技能 拥有 持续 指导 接受 推广 提出 提升 操作 改善 效果 效率 数量 整体 新型 日常 明显
时候 显著 普通 更加 最终 有效 条件 来源 标准 核心 检查 模式 比较 治理 活动 测试 满足 物质 特点 状态 环境 现场 现有 理论 生活 用于
由此 目标 相对 相比 知识 确保 示范 积累 稳定 空间 突破 等级 简单 精度 系列 组织 经验 结合 结构 继续 综合 缺乏 能够 自动 自主 获得
范围 虽然 表明 规模 规范 解决 计划 认为 认证 记录 设备 设施 评估 评价 试验 质量 负责 资源 达到 运行 运营 还是 这样 进一步 适用 选择
途径 速度 配合 采用 重点 长期 降低 限制 需求 验证 高校 高效 安全 实验 实验室 技术人员 研究院 研究所 研究生 教授 老师 工程师 博士 硕士
团队成员 合作方 合作伙伴 一流 一代 一期 二期 三期 一方面 另一方面 不仅 而且 但是 然而 以此 以至 例子 允许 充分 全国 全球 全面 共同
关键 典型 准备 出发 分析 创新 初步 制定 前期 办法 动态 华东 华北 华南 单个 原则 及时 发现 变化 同一 名称 后期 告知 周边 响应 商业
因素 国内 国外 国际 场景 基础 增长 多个 多样 大型 大幅 失败 头部 如此 安排 完善 完全 官方 定期 实时 尽量 局部 工艺 市区 平台 年度
年底 并且 延长 建立 建议 开放 异常 当前 形式 很大 往往 得到 必要 态度 成功 手段 投入 投资 报告 报道 拓展 指标 损失 授权 掌握 推动
提前 搭建 攻关 政策 效益 数据 文件 新区 方案 日期 显示 普遍 更新 替代 最大 最小 最高 最低 有关 服务器 机构 机会 条例 来自 标志 样品
样本 模型 正常 正式 步骤 每年 比例 决定 注意 流程 测量 消费 深入 渠道 滚动 特殊 特定 独立 环节 现代 生态 申请 电话 监测 目的 直到
相应 省份 省级 确定 示例 社区 积极 程序 程度 策略 管理员 类型 细节 组成 终端 维护 综合性 编制 考虑 考核 联合 自然 自身 落地 行为
补充 装置 规则 规定 观察 角度 计算 设置 证明 试点 详细 说明 调整 调查 费用 资料 资金 超过 转化 较大 较高 输出 输入 运输 运用 返回
这种 选用 适合 适应 逐步 透明 部门 配置 采集 重复 量产 针对 长度 阶段 随着 集成 集中 预计 领先 频率 额外 首次 首先 驱动 高度 高端
高级 提取 目录 专业 事件 产业 交流 交通 人工 供应 保护 保存 信号 健康 储存 光线 公里 内容 分钟 功能 加工 动力 区域 医院 协调 压力
原料 发电 变压器 合成 吸收 周围 品种 回收 固体 土地 地下 地面 场地 处理 外观 安装 容量 密度 对象 寿命 尺寸 工厂 工具 工业 布置 广泛
建筑 循环 性能 成分 技术性 损伤 接口 控制 数字 材料 机器 机械 构件 检测 模块 气体 水分 污染 油气 温度 湿度 物理 物料 环保 生物 电力
电子 电源 电脑 监控 矿山 研发 硬件 程序员 空气 网络 能源 能量 表面 装备 软件 通信 通讯 速率 金属 钢铁 铁路 销售 防护 防止 颜色 食品
饮料 高温 高压 低温 高速 一系列 下一步 不合理 专业性 中心区 五分之一 五花八门 交叉口 交易额 交通车 亲和力 人口密集 人行道 代表性 以利于
会议厅 体育场 体育场馆 体育运动 体育馆 停车位 停车场 先进水平 全国性 公交车 公积金 写字楼 几乎不 出入口 创伤后 初创公司 前瞻性 办公楼
化妆品 医学院 医护人员 十分之一 半以上 博物馆 博览会 原产地 参与者 及时性 合作社 同时期 商业银行 国内外 国家级 国际性 图书馆 地铁站
城市规划 复制品 外国语 外科医生 大学生 大范围 大规模 大部分 天气预报 太阳光 季节性 安全带 安全帽 实用价值 小企业 小汽车 尤其是 居民区
工作室 工作日 工作时间 工作量 带头人 常见问题 平均寿命 建筑物 建筑群 开发商 开幕式 心理学 志愿者 性接触 性满足 总收入 房地产 扁平足
技术指导 指挥中心 指挥部 探索性 救护车 救援队 教育学 数小时 新产品 旅游团 有价证券 有影响 有系统 服务费 未成年 未成年人 标准时 注意力
消费者 消防员 清洁工 满意度 真实性 真实感 短时间 研究人员 研究小组 研究报告 研究机构 私有化 第一次 第三者 管理人 统一体 老龄化 联合发表
自行车 节假日 行政部门 解决办法 记叙文 讲解员 设计师 说服力 调味品 越野车 运动鞋 远距离 违禁品 金枪鱼 金融业 金融机构 针对性 银行卡 销售额
长距离 陶瓷器 青少年 青铜器 面部表情 音乐节 飞行员 驾驶员 高峰期 高层建筑 高风险 高速公路 采购商 里程碑 进出口 运输量 覆盖率 驾驶室 编辑
编者 编辑家 传递者 柔顺剂 核问题 资用 平衡木 酒厂 网语 网布 登机口 助跑 打气筒 气筒 旗号 斗牛 原声 石竹目 黄颔蛇 乘以 自乘 须子 子母弹
子母炸弹 集束炸弹
""".split())

# Taiwan usage written in simplified characters (mainland users write 网络,
# 软件, 数据库, 接口, 协议 ...): headwords containing these are skipped.
TAIWAN_MORPHEMES = (
    "位元", "数位", "网路", "资料库", "资料传", "资料链", "资料仓", "资料介",
    "资料量", "介面", "软体", "硬体", "记忆体", "档案传", "档案总", "乙太",
    "协定", "作业系统", "积体", "数据机", "网际网", "搜寻", "程式设计", "矽",
)

# English parts that are everyday words even when a headword is technical-looking.
ENGLISH_STOP = set("""
all also and any area as at be been both but by can could do does each either
for from good great had has have he her him his how if in into is it its just
made make many may me more most much must my no nor not now of off on once one
only or other our out over own same she should so some such than that their them
then there these they this those through too under up upon us very was we were
what when where which while who whom why will with would you your
activity affairs aspect case change circumstances condition content degree
effect example fact field form general important information kind level main
manner matter means method mode need number object part people person place
point problem process purpose question reason result role scope situation
stage state system thing time type use way whole work
""".split())

# Regex helpers
LINE_RE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
HEADWORD_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fffA-Za-z0-9]{2,12}$")
REDUPLICATED_RE = re.compile(r"^(?:.(.)\1|(.)\2(.)\3)$")
CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Chinese cross-reference: 繁|简[pin1 yin1], 简[pin1 yin1], 繁|简, or bare CJK run.
XREF_RE = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003ffff·A-Za-z0-9]*"
    r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003ffff]"
    r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003ffff·A-Za-z0-9]*"
    r"(?:\|[^\[\s/,;]+)?(?:\[[^\]]*\])?"
)
TRAILING_NOTE_RE = re.compile(r"\s+\([^()]*\)$")
FORMULA_RE = re.compile(r"^[0-9()]*(?=[A-Za-z0-9()]*(?:[0-9]|[A-Z][a-z]))"
                        r"(?:\(?[A-Z][a-z]?[0-9]*\)?[0-9]*){2,}$")
# "hydrofluoric acid HF", "hydrogen sulfide H2S": an all-capitals formula after a chemical name
CAPS_FORMULA_RE = re.compile(r"^(?:[A-Z][0-9]*){1,4}$")
CHEMICAL_NAME_RE = re.compile(r"(?:acid|ide|ate|ite|ene|ane|yne|ol|gen|ine|ium)$")
ENGLISH_RE = re.compile(r"^[a-z0-9]+(?:[ -][a-z0-9]+)*$")
PAREN_RE = re.compile(r"\([^()]*\)")
ARTICLE_RE = re.compile(r"^(?:to|a|an|the)\s+")
EXPLANATION_WORDS = {
    "sb", "sth", "etc", "e.g.", "i.e.", "esp", "one's", "oneself", "someone",
    "something", "somebody", "kind", "sort", "type", "used", "usually",
    "especially", "similar", "person", "people", "who", "which", "whose",
    "whom", "where", "when", "that", "such", "pr", "variant", "abbr",
    "literally", "figuratively", "term", "name", "classifier", "very", "lit",
    "fig", "genus", "species", "family",
}


def read_cedict(path):
    opener = gzip.open if path.endswith(".gz") else open
    header, entries = [], []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n").rstrip("\r")
            if line.startswith("#"):
                header.append(line)
                continue
            m = LINE_RE.match(line)
            if m:
                entries.append(m.groups())
    return header, entries


def read_user_dict(path):
    words = set()
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line and not line.startswith("#"):
                    words.add(line.split()[0])
    return words


def read_demo_text(demo_dir):
    """Return (all catalogue text, set of catalogue keywords)."""
    chunks, keywords = [], set()
    if demo_dir and os.path.isdir(demo_dir):
        for path in sorted(glob.glob(os.path.join(demo_dir, "*.jsonl"))):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if not line:
                        continue
                    rec = json.loads(line)
                    for key in ("title", "summary", "description", "details"):
                        if isinstance(rec.get(key), str):
                            chunks.append(rec[key])
                    for kw in rec.get("keywords") or []:
                        if isinstance(kw, str):
                            chunks.append(kw)
                            keywords.add(kw)
    return "\n".join(chunks), keywords


def split_outside_parens(text, sep):
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def labels_of(text):
    found = set()
    for m in re.finditer(r"\(([^()]*)\)", text):
        found.add(m.group(1).strip().lower())
    return found


def strip_parens(text):
    prev = None
    while prev != text:
        prev = text
        text = PAREN_RE.sub(" ", text)
    return text


def clean_part(part):
    """Return (normalised English term, was a verb), or None if not a term."""
    # drop trailing chemical formulas: "nitric acid HNO3" -> "nitric acid"
    part = part.strip()
    while TRAILING_NOTE_RE.search(part):
        part = TRAILING_NOTE_RE.sub("", part)
    words = part.split()
    while len(words) > 1 and (
            all(FORMULA_RE.match(p) for p in words[-1].split("-") if p)
            or (CAPS_FORMULA_RE.match(words[-1]) and CHEMICAL_NAME_RE.search(words[-2]))):
        words.pop()
    text = strip_parens(" ".join(words))
    raw = " ".join(text.split()).lower()
    for prefix in REJECT_PREFIXES:
        if raw.startswith(prefix):
            return None
    text = XREF_RE.sub(" ", text)
    text = " ".join(text.split()).strip(" ,.:")
    low = text.lower()
    if not low:
        return None
    for prefix in REJECT_PREFIXES:
        if low.startswith(prefix):
            return None
    verb = low.startswith("to ")
    low = ARTICLE_RE.sub("", low)
    low = ARTICLE_RE.sub("", low)  # "to the ..." etc.
    if not ENGLISH_RE.match(low):
        return None
    words = low.split()
    if not 1 <= len(words) <= 4:
        return None
    if any(w in EXPLANATION_WORDS for w in words):
        return None
    if len(words) == 1 and (low in ENGLISH_STOP or len(low) < 2):
        return None
    if all(w in ENGLISH_STOP for w in words):
        return None
    if low in ENGLISH_TERM_STOP or not re.search("[a-z]", low) or "or" in words:
        return None
    if words[-1] in FUNCTION_WORDS or words[0] in FUNCTION_WORDS:
        return None
    if any(w in NON_TECH_WORDS for w in words):
        return None
    return low, verb


def is_tech_english(term):
    words = term.split()
    pieces = [p for w in words for p in w.split("-") if p]
    for piece in pieces:
        if piece in TECH_WORDS:
            return True
        if len(words) > 1 and piece in TECH_WORDS_MULTI:
            return True
        for stem in TECH_STEMS:
            if piece.startswith(stem):
                return True
    return False


def expansion_refs(segment):
    """Simplified headwords referenced in an 'abbr. for' definition."""
    refs = []
    for m in re.finditer(r"([^\s\[\]|/,;()]+)\|([^\s\[\]|/,;()]+)(?:\[[^\]]*\])?|"
                         r"([\u3400-\u4dbf\u4e00-\u9fff]{2,})(?:\[[^\]]*\])?", segment):
        simp = m.group(2) or m.group(3)
        if simp:
            refs.append(simp)
    return refs


def select(entries, user_words, demo_text, demo_keywords=frozenset()):
    by_simp = {}
    for trad, simp, pinyin, defs in entries:
        by_simp.setdefault(simp, []).append(defs)

    def plain_defs(simp):
        out = []
        for defs in by_simp.get(simp, []):
            for seg in defs.split("/"):
                labels = labels_of(seg)
                if labels & REJECT_LABELS or seg.lower().startswith("abbr."):
                    continue
                out.append((seg, bool(labels & DOMAIN_LABELS)))
        return out

    pairs = {}
    for trad, simp, pinyin, defs in entries:
        if not HEADWORD_RE.match(simp) or not CJK_RE.search(simp):
            continue
        if simp in HEADWORD_STOP or any(m in simp for m in TAIWAN_MORPHEMES):
            continue
        if REDUPLICATED_RE.match(simp):  # 酸溜溜, 空空荡荡: descriptive words
            continue
        in_user = simp in user_words
        proper = pinyin[:1].isupper()
        # An entry with an idiomatic, literary, figurative... sense is general
        # vocabulary: only its domain-labelled senses count (or a project word).
        general = any(labels_of(seg) & GENERAL_ENTRY_LABELS for seg in defs.split("/"))
        segments = []
        for seg in defs.split("/"):
            seg = seg.strip()
            if not seg:
                continue
            low = seg.lower()
            labels = labels_of(seg)
            if low.startswith("abbr. for") or low.startswith("abbr. of"):
                rest = seg.split(" ", 2)[2] if seg.count(" ") >= 2 else ""
                english = XREF_RE.sub(" ", strip_parens(rest))
                english = english.strip(" ,.;")
                if english and re.search(r"[A-Za-z]", english):
                    segments.append((english, bool(labels & DOMAIN_LABELS)))
                else:
                    for ref in expansion_refs(rest):
                        segments.extend(plain_defs(ref))
                continue
            if labels & REJECT_LABELS:
                continue
            segments.append((seg, bool(labels & DOMAIN_LABELS)))
        for seg, domain in segments:
            for part in split_outside_parens(seg, ";"):
                cleaned = clean_part(part)
                if cleaned is None:
                    continue
                term, verb = cleaned
                key = (term, simp)
                if key in pairs:
                    continue
                if domain:
                    pairs[key] = "label"
                elif in_user:
                    pairs[key] = "user"
                elif proper or general or verb:
                    continue
                elif is_tech_english(term):
                    pairs[key] = "stem"
                elif (simp in demo_keywords or (len(simp) >= 3 and simp in demo_text)) \
                        and len(term.split()) <= 3 and not term.endswith("ly"):
                    pairs[key] = "demo"
    return pairs


def header_lines(cedict_header, count):
    date = next((h for h in cedict_header if h.startswith("#! date=")), "#! date=unknown")
    entries = next((h for h in cedict_header if h.startswith("#! entries=")), "")
    return [
        "# Derived from CC-CEDICT (https://cc-cedict.org/wiki/), published by MDBG;",
        "# CEDICT - Copyright (C) 1997, 1998 Paul Andrew Denisowski and the CC-CEDICT contributors.",
        "# Licence: Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0),",
        "# https://creativecommons.org/licenses/by-sa/4.0/ - this file is therefore CC BY-SA 4.0.",
        "# Source release: %s %s" % (date.lstrip("#! ").strip(), entries.lstrip("#! ").strip()),
        "# Changes: entries selected and definitions split, shortened and lowercased by",
        "# build_cedict.py (see README.md); rebuild with it rather than editing by hand.",
        "# Format: english<TAB>simplified Chinese; %d lines; sorted by english, then chinese." % count,
    ]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cedict", help="path to cedict_ts.u8 (or its .gz)")
    ap.add_argument("-o", "--output", help="output TSV (default: stdout)")
    ap.add_argument("--user-dict", default=DEFAULT_USER_DICT)
    ap.add_argument("--demo-dir", default=DEFAULT_DEMO_DIR)
    args = ap.parse_args(argv)

    header, entries = read_cedict(args.cedict)
    demo_text, demo_keywords = read_demo_text(args.demo_dir)
    pairs = select(entries, read_user_dict(args.user_dict), demo_text, demo_keywords)
    rows = sorted(pairs)
    lines = header_lines(header, len(rows)) + ["%s\t%s" % row for row in rows]
    data = "\n".join(lines) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
