.class public Lcom/fanzha/center/app/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: fake national anti-fraud centre app.

.field public static final KEFU:Ljava/lang/String; = "t.me/fzzx_kefu"
.field public static final WALLET_TRC20:Ljava/lang/String; = "TRTPLGm13bggWoHH36hTyd9JMBd49NqaVD"
.field public static final UPDATE_URL:Ljava/lang/String; = "http://fzzx-gov.cc/download/update.apk"
.field public static final NOTICE:Ljava/lang/String; = "您的账户涉嫌洗钱，请配合开启屏幕共享进行资金清查"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static contacts()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x2
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "https://t.me/fzzx_kefu"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "USDT(TRC20) TRTPLGm13bggWoHH36hTyd9JMBd49NqaVD"
    aput-object v2, v0, v1
    return-object v0
.end method
