"""Traditional Chinese characters folded to their simplified forms, for matching.

A claim catalogued in simplified characters ("北约走到哪里") is quoted by outlets in Taiwan
and Hong Kong in traditional ones ("北約走到哪裡"): five characters of eighteen differ, and
the fuzzy score falls from 100 to about 70. Folding both sides to one form, character by
character, keeps every offset. The table holds the 611 traditional characters most
common in news on politics and the economy whose simplified form differs, each written
once; a character outside it is compared as written. Japanese text passes through it too
(some of its kanji are the traditional forms), harmlessly: wordings and texts are folded
alike.
"""

from __future__ import annotations

TRADITIONAL = (
    "並亂亞佔併來係個們倫傳債傷價億儘優兇內兩則劃劇劍動務勝勞勢勳勵區協卻厭厲參員問啟"
    "單嚇嚮嚴國圍園圓圖團報場墜墳壇壓壞壯夠夢奪奮婦嬰學實寧審寫寶將專尋對導尷屆層屬島"
    "峽嶺嶼師幣幫幾廈廟廠廢廣廳張強彈彌後從復徹恆惡惱愛態慘慣慮慶憂憐憲憶應懷懸戀戰戲"
    "戶換揮損搶撥撲擁擇擊擔據擬擴擺擾攜攝敗敘敵數斂斷於時晝暈暢暫曆書會東條棄棟業極榮"
    "構樓標樣機檢櫃權歐歡歲歷歸殘殺氈氣決沒沖況淚淺減渦測溝滅滬滿漁漢潔潛澤濃濕濟瀕灑"
    "灣災為烏無煙熱燈燒營爐爭爾牆犧狀猶獄獅獨獲獻現瑪環產畢畫異當疊瘋療癒發盜盡監盤盪"
    "眾矯確礎禍禮稅種稱穀穩穫窮竊競筆節範築簡簽糧糾紀約紅納紐純紙級紛紡細紹終組結絕絡"
    "給統綁經綜綠維網緊緒線緣編緩練縣縮縱總織繩繼續纖罰罷羅義習聖聞聯聲職聽肅脅脫腦膽"
    "臉臨臺與興舉舊艙艦艱莊華萊萬葉蓋蔣蕩薦藝藥蘇蘋蘭處虛號蝦衆術衛衝裏補裝裡製複襲見"
    "規視親覺覽觀訂計訊討訓託記訪設許訴診詐評詞試話該詳誇誌認誕誘語誠誤說誰課調談請諒"
    "論諸諾謀謂謊講謝謹證識譜譯議譴護讀變讓讚豐豬貓貝負財貢貧貨販責貴買費貿賄資賓賞賠"
    "賣質賬賴購賽贈贊贏趨跡踐踴蹤車軌軍軒軟軸較載輔輕輛輪輯輸輿轄轉辦辭農這連週進遊運"
    "過達違遠適遷選遺還邊邏郵鄉鄭鄰醫釋針銀鋒鋼錄錢錦錯鍵鎖鎮鐘鐵鑑鑒長門閃閉開閒間閣"
    "閱闆關陝陣陰陳陸陽隊階際隨險隱隸隻雖雙雜雞離難雲電霧靈靜韌韓韻響頁頂項順須預頒頓"
    "頗領頭頸頻顆題額顏願類顧顯風颱飛飯餘館饑馬駐騎騙騰驅驕驗驚體髮鬥鬧鬱魚鮮鳥鳳鴻鹽"
    "麗麥麵麼黃點黨齊齒齡龍"
)
SIMPLIFIED = (
    "并乱亚占并来系个们伦传债伤价亿尽优凶内两则划剧剑动务胜劳势勋励区协却厌厉参员问启"
    "单吓向严国围园圆图团报场坠坟坛压坏壮够梦夺奋妇婴学实宁审写宝将专寻对导尴届层属岛"
    "峡岭屿师币帮几厦庙厂废广厅张强弹弥后从复彻恒恶恼爱态惨惯虑庆忧怜宪忆应怀悬恋战戏"
    "户换挥损抢拨扑拥择击担据拟扩摆扰携摄败叙敌数敛断于时昼晕畅暂历书会东条弃栋业极荣"
    "构楼标样机检柜权欧欢岁历归残杀毡气决没冲况泪浅减涡测沟灭沪满渔汉洁潜泽浓湿济濒洒"
    "湾灾为乌无烟热灯烧营炉争尔墙牺状犹狱狮独获献现玛环产毕画异当叠疯疗愈发盗尽监盘荡"
    "众矫确础祸礼税种称谷稳获穷窃竞笔节范筑简签粮纠纪约红纳纽纯纸级纷纺细绍终组结绝络"
    "给统绑经综绿维网紧绪线缘编缓练县缩纵总织绳继续纤罚罢罗义习圣闻联声职听肃胁脱脑胆"
    "脸临台与兴举旧舱舰艰庄华莱万叶盖蒋荡荐艺药苏苹兰处虚号虾众术卫冲里补装里制复袭见"
    "规视亲觉览观订计讯讨训托记访设许诉诊诈评词试话该详夸志认诞诱语诚误说谁课调谈请谅"
    "论诸诺谋谓谎讲谢谨证识谱译议谴护读变让赞丰猪猫贝负财贡贫货贩责贵买费贸贿资宾赏赔"
    "卖质账赖购赛赠赞赢趋迹践踊踪车轨军轩软轴较载辅轻辆轮辑输舆辖转办辞农这连周进游运"
    "过达违远适迁选遗还边逻邮乡郑邻医释针银锋钢录钱锦错键锁镇钟铁鉴鉴长门闪闭开闲间阁"
    "阅板关陕阵阴陈陆阳队阶际随险隐隶只虽双杂鸡离难云电雾灵静韧韩韵响页顶项顺须预颁顿"
    "颇领头颈频颗题额颜愿类顾显风台飞饭余馆饥马驻骑骗腾驱骄验惊体发斗闹郁鱼鲜鸟凤鸿盐"
    "丽麦面么黄点党齐齿龄龙"
)
TO_SIMPLIFIED = str.maketrans(TRADITIONAL, SIMPLIFIED)
