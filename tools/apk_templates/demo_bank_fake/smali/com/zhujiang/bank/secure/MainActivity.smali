.class public Lcom/zhujiang/bank/secure/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: the demo site's fake Zhujiang Bank app.

.field public static final COLLECT:Ljava/lang/String; = "https://spp-anquan.cyou/api/collect"
.field public static final MIRROR:Ljava/lang/String; = "app-xiazai-vip.top"
.field public static final TITLE:Ljava/lang/String; = "珠江银行 安全中心"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static fields()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x3
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "身份证号"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "银行卡号"
    aput-object v2, v0, v1
    const/16 v1, 0x2
    const-string v2, "短信验证码"
    aput-object v2, v0, v1
    return-object v0
.end method
